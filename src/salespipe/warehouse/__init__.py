"""The warehouse: star schema, ledger and quarantine, on DuckDB (PostgreSQL and Spark later)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import duckdb

from salespipe.config.model import Config
from salespipe.errors import ConfigError
from salespipe.warehouse.duckdb import DuckDBWarehouse, open_duckdb
from salespipe.warehouse.postgres import PostgresWarehouse, open_postgres


class Warehouse(Protocol):
    """An open warehouse. `con` runs SQL in DuckDB's dialect (`?` placeholders) on either
    engine; `staging` is the DuckDB connection where files are read and validated."""

    name: str
    stages_in_place: bool
    single_writer: bool
    text_holds_nul: bool
    read_only: bool
    con: Any

    @property
    def staging(self) -> duckdb.DuckDBPyConnection: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...


def is_postgres(config: Config) -> bool:
    return config.warehouse.startswith(("postgresql://", "postgres://"))


def warehouse_path(config: Config) -> Path:
    """The DuckDB file (for PostgreSQL: the folder of the config, for snapshots and discovery)."""
    url = config.warehouse
    if is_postgres(config):
        return config.resolve(".salespipe-postgres")
    if url.startswith("duckdb://"):
        rest = url.removeprefix("duckdb://")
        # duckdb:///rel/path -> relative to the config; duckdb:////abs/path -> absolute
        rest = rest[1:] if rest.startswith("/") else rest
        if not rest:
            raise ConfigError("warehouse: duckdb:/// needs a file path", key="warehouse")
        return config.resolve(rest)
    raise ConfigError(
        f"unknown warehouse URL '{url}'",
        key="warehouse",
        hint="use duckdb:///path/warehouse.duckdb or postgresql://user@host:port/db",
    )


def open_warehouse(config: Config, *, read_only: bool = False, wait: float = 0.0) -> Warehouse:
    if is_postgres(config):
        return open_postgres(config.warehouse, read_only=read_only)
    return open_duckdb(warehouse_path(config), read_only=read_only, wait=wait)


__all__ = [
    "DuckDBWarehouse",
    "PostgresWarehouse",
    "Warehouse",
    "is_postgres",
    "open_warehouse",
    "warehouse_path",
]
