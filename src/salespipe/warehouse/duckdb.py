"""The DuckDB warehouse: one embedded database file, opened by one writing process.

Capabilities are declared here and read by shared code; nothing else tests which
engine it runs on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from salespipe.errors import WarehouseError
from salespipe.warehouse.schema import DDL, SCHEMA_VERSION

# A load stages a whole file before its transaction (10M lines are ~4 GB uncompressed)
# and the first mart build reads the whole fact. A writer bounds DuckDB's memory and
# spills past it to `<warehouse>.tmp/` (DuckDB's default temp directory), so peak memory
# stays flat whatever the file size; the spill files mostly live in the page cache.
WRITER_MEMORY_LIMIT = "1GB"


@dataclass
class DuckDBWarehouse:
    """An open DuckDB warehouse."""

    path: Path
    con: duckdb.DuckDBPyConnection
    read_only: bool

    name = "duckdb"
    # Contracts are compiled to DuckDB SQL and staged in the warehouse connection itself.
    stages_in_place = True
    # One writing process at a time: a run still `running` when a writer opens it was
    # cut short (killed).
    single_writer = True
    text_holds_nul = True

    @property
    def staging(self) -> duckdb.DuckDBPyConnection:
        return self.con

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock_message(path: Path, exc: Exception, waited: float = 0.0) -> WarehouseError:
    pid = re.search(r"PID (\d+)", str(exc))
    holder = f" (PID {pid.group(1)})" if pid else ""
    after = f" after waiting {waited:g}s" if waited else ""
    server = _serving_pid(path)
    if server is not None and (pid is None or pid.group(1) == str(server)):
        return WarehouseError(
            f"the warehouse {path} is owned by `salespipe serve` (PID {server}){after}",
            hint="this command reads or writes the file itself: use the server's API (or the "
            "commands that go through it: run, kpi, status, marts list|show, quarantine), "
            "or stop the server for it",
        )
    return WarehouseError(
        f"the warehouse {path} is in use by another process{holder}{after}",
        hint="wait for the running `salespipe run` to finish, or stop it; readers use the published snapshot",
    )


def _serving_pid(path: Path) -> int | None:
    """The pid of a `salespipe serve` that announced itself for this warehouse."""
    import json

    try:
        info = json.loads(Path(str(path) + ".server.json").read_text(encoding="utf-8"))
        return int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def open_duckdb(
    path: Path, *, read_only: bool = False, memory_limit: str | None = None, wait: float = 0.0
) -> DuckDBWarehouse:
    """Open the warehouse; with `wait`, retry that many seconds while another process holds it."""
    if read_only and not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}", hint="run `salespipe run` first to load some files"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise _lock_message(path, exc, waited=wait) from None
            time.sleep(0.2)
    con.execute("SET TimeZone = 'UTC'")
    # salespipe draws its own progress; DuckDB's bar would print over it on long statements
    con.execute("SET enable_progress_bar = false")
    memory_limit = memory_limit or (None if read_only else WRITER_MEMORY_LIMIT)
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if not read_only:
        for statement in DDL:
            con.execute(statement)
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION]
        )
    return DuckDBWarehouse(path=path, con=con, read_only=read_only)
