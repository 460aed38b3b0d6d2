"""The warehouse: star schema, ledger and quarantine, on DuckDB (PostgreSQL and Spark later)."""

from __future__ import annotations

from pathlib import Path

from salespipe.config.model import Config
from salespipe.errors import ConfigError
from salespipe.warehouse.duckdb import DuckDBWarehouse, open_duckdb

Warehouse = DuckDBWarehouse


def warehouse_path(config: Config) -> Path:
    url = config.warehouse
    if url.startswith("duckdb://"):
        rest = url.removeprefix("duckdb://")
        # duckdb:///rel/path -> relative to the config; duckdb:////abs/path -> absolute
        rest = rest[1:] if rest.startswith("/") else rest
        if not rest:
            raise ConfigError("warehouse: duckdb:/// needs a file path", key="warehouse")
        return config.resolve(rest)
    if url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "the PostgreSQL warehouse is not available in this version",
            key="warehouse",
            hint="use warehouse: duckdb:///warehouse.duckdb for now",
        )
    raise ConfigError(
        f"unknown warehouse URL '{url}'",
        key="warehouse",
        hint="use duckdb:///path/warehouse.duckdb or postgresql://user@host:port/db",
    )


def open_warehouse(config: Config, *, read_only: bool = False, wait: float = 0.0) -> Warehouse:
    return open_duckdb(warehouse_path(config), read_only=read_only, wait=wait)


__all__ = ["Warehouse", "open_warehouse", "warehouse_path"]
