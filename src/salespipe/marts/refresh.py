"""Refresh the marts after loads: recompute only the partitions the loads touched.

Runs after every load (and quarantine replay) and on `salespipe marts refresh`. The
whole refresh and the clearing of the dirty keys it consumed commit in one
transaction, so a crash leaves the keys for the next refresh and never a half-built
mart. Each mart is, by its declaration:

- built in full when it is new, its definition changed, an input was rebuilt, or
  `--full` is asked;
- refreshed by partition (days, months, customers) when only some keys are dirty;
- recomputed whole when it is inherently global (it reads small marts, not the fact);
- skipped, with a note, when the data lacks a field it needs.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import duckdb

from salespipe.marts.errors import MartError, database_errors
from salespipe.marts.fields import FieldProbe, skip_note
from salespipe.marts.model import BASE_TABLES, ByDate, ByMember, ByMonth, Mart, Whole
from salespipe.marts.registry import BUILD_ORDER
from salespipe.marts.scope import (
    DIRTY,
    DirtySet,
    attributes_changed,
    collect_dirty,
    consume_dirty,
    input_days,
    save_seen_attributes,
    target_partitions,
)
from salespipe.warehouse.sql import MART_REFRESH_LOCK, first_row, serialized

MODES = ("full", "incremental", "whole", "unchanged", "skipped")


@dataclass
class MartRefresh:
    """What one refresh did to one mart."""

    name: str
    mode: str  # one of MODES
    rows: int | None = None  # rows in the mart afterwards
    partitions: int | None = None  # target partitions recomputed (incremental)
    seconds: float = 0.0
    note: str | None = None


@dataclass
class RefreshReport:
    run_id: str | None
    full: bool
    marts: list[MartRefresh] = field(default_factory=list)
    dirty: dict[str, int] = field(default_factory=dict)
    changed_attributes: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step of the refresh
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(m.mode in ("full", "incremental", "whole") for m in self.marts)

    def mart(self, name: str) -> MartRefresh:
        for m in self.marts:
            if m.name == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "full": self.full,
            "dirty": self.dirty,
            "changed_attributes": self.changed_attributes,
            "seconds": round(self.seconds, 3),
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "marts": [{**asdict(m), "seconds": round(m.seconds, 4)} for m in self.marts],
        }


class _Clock:
    def __init__(self) -> None:
        self.last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        return elapsed


@dataclass
class _Context:
    full: bool
    dirty: DirtySet
    fields: FieldProbe
    state: dict[str, tuple[str, str]]  # name -> (status, fingerprint)
    tables: set[str]
    rebuilt: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    # Day sets already in a temp table (marts of one kind share targets and inputs).
    day_tables: dict[tuple[date, ...], str] = field(default_factory=dict)
    views: set[str] = field(default_factory=set)


def refresh_marts(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    run_id: str | None = None,
    marts: tuple[Mart, ...] = BUILD_ORDER,
) -> RefreshReport:
    """Bring every mart up to date with the fact table, consuming `mart_dirty`."""
    started = time.perf_counter()
    report = RefreshReport(run_id=run_id, full=full)
    if not full and _up_to_date(con, marts):
        report.marts = [MartRefresh(m.name, "unchanged") for m in marts]
        report.seconds = time.perf_counter() - started
        return report
    ctx: _Context | None = None
    clock = _Clock()
    try:
        # One refresher at a time, reading one snapshot: on an engine with concurrent
        # writers a load that commits meanwhile keeps its keys for the next refresh, and
        # every mart of this one reflects the same fact rows.
        with serialized(con, MART_REFRESH_LOCK):
            dirty = collect_dirty(con)
            report.phases["collect_dirty"] = clock.lap()
            report.dirty = dirty.counts
            report.changed_attributes = dirty.changed_members
            ctx = _Context(
                full=full,
                dirty=dirty,
                fields=FieldProbe(con),
                state=_load_state(con),
                tables=_existing_tables(con),
            )
            for mart in marts:
                try:
                    report.marts.append(_refresh_one(con, mart, ctx))
                except database_errors() as exc:
                    raise MartError(
                        f"mart {mart.name} failed to refresh: {str(exc).splitlines()[0]}",
                        hint="the loaded files are committed and their keys stay dirty; after "
                        "fixing, run `salespipe marts refresh` (or --full)",
                    ) from exc
            report.phases["marts"] = clock.lap()
            _record(con, [(m, o) for m, o in zip(marts, report.marts, strict=True)], run_id)
            consume_dirty(con)
            save_seen_attributes(con, everything=full or bool(ctx.rebuilt))
            report.phases["bookkeeping"] = clock.lap()
        report.phases["commit"] = clock.lap()
    finally:
        _drop_temps(con, ctx)
    report.seconds = time.perf_counter() - started
    return report


def _refresh_one(con: duckdb.DuckDBPyConnection, mart: Mart, ctx: _Context) -> MartRefresh:
    t0 = time.perf_counter()
    missing = ctx.fields.missing(mart.requires)
    skipped_inputs = [u for u in mart.upstream if u in ctx.skipped]
    if missing or skipped_inputs:
        con.execute(f"DROP TABLE IF EXISTS {mart.name}")
        ctx.skipped.add(mart.name)
        note = (
            skip_note(missing)
            if missing
            else f"skipped: it reads {', '.join(skipped_inputs)}, which is skipped"
        )
        return MartRefresh(mart.name, "skipped", seconds=time.perf_counter() - t0, note=note)

    partitions: int | None = None
    if (
        ctx.full
        or ctx.state.get(mart.name) != ("built", mart.fingerprint())
        or mart.name not in ctx.tables
        or any(u in ctx.rebuilt for u in mart.upstream)
    ):
        _build(con, mart)
        ctx.rebuilt.add(mart.name)
        mode = "full"
    elif ctx.dirty.empty:
        mode = "unchanged"
    elif isinstance(mart.refresh, Whole):
        con.execute(f"DELETE FROM {mart.name}")
        con.execute(f"INSERT INTO {mart.name} SELECT * FROM ({mart.sql()}) AS q")
        mode = "whole"
    else:
        partitions = _refresh_partitions(con, mart, ctx)
        mode = "incremental" if partitions else "unchanged"
    rows = first_row(con.execute(f"SELECT count(*) FROM {mart.name}"))
    return MartRefresh(
        mart.name,
        mode,
        rows=int(rows[0]) if rows else 0,
        partitions=partitions,
        seconds=time.perf_counter() - t0,
    )


def _build(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    con.execute(f"DROP TABLE IF EXISTS {mart.name}")
    con.execute(mart.create_sql())
    con.execute(f"INSERT INTO {mart.name} SELECT * FROM ({mart.sql()}) AS q")


def _refresh_partitions(con: duckdb.DuckDBPyConnection, mart: Mart, ctx: _Context) -> int:
    """Delete and recompute the mart's dirty partitions; returns how many there were."""
    refresh = mart.refresh
    assert isinstance(refresh, ByDate | ByMonth | ByMember)
    filters: dict[str, str] = {}
    if isinstance(refresh, ByMember):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _members AS SELECT DISTINCT key AS v FROM {DIRTY} "
            "WHERE kind = ? AND key IS NOT NULL",
            [refresh.kind],
        )
        count = first_row(con.execute("SELECT count(*) FROM _members"))
        n = int(count[0]) if count else 0
        targets = "_members"
        for scoped in refresh.scoped:
            filters[scoped.source] = f"{refresh.column} IN (SELECT v FROM _members)"
    else:
        values = target_partitions(refresh, ctx.dirty.dates)
        n = len(values)
        targets = _day_table(con, ctx, values)
        for scoped in refresh.scoped:
            days = input_days(refresh, values, scoped.lookback)
            # The literal range lets the engine skip row groups before probing the day set.
            filters[scoped.source] = (
                f"sale_date BETWEEN DATE '{days[0]}' AND DATE '{days[-1]}' "
                f"AND sale_date IN (SELECT v FROM {_day_table(con, ctx, days)})"
                if days
                else "FALSE"
            )
    if not n:
        return 0
    tables: dict[str, str] = {}
    for source, where in filters.items():
        view = f"_scoped_{source}"
        table = BASE_TABLES.get(source, source)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {table} WHERE {where}")
        ctx.views.add(view)
        tables[source] = view
    column = refresh.column
    con.execute(f"DELETE FROM {mart.name} WHERE {column} IN (SELECT v FROM {targets})")
    con.execute(
        f"INSERT INTO {mart.name} SELECT * FROM ({mart.sql(tables)}) AS q "
        f"WHERE q.{column} IN (SELECT v FROM {targets})"
    )
    return n


def _day_table(con: duckdb.DuckDBPyConnection, ctx: _Context, days: list[date]) -> str:
    """A temp table `(v DATE)` holding these days, made once per refresh."""
    key = tuple(days)
    if key in ctx.day_tables:
        return ctx.day_tables[key]
    table = f"_days_{len(ctx.day_tables)}"
    if days:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT CAST(v AS DATE) AS v FROM (VALUES "
            + ", ".join("(?)" for _ in days)
            + ") AS t(v)",
            days,
        )
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (v DATE)")
    ctx.day_tables[key] = table
    return table


def _up_to_date(con: duckdb.DuckDBPyConnection, marts: tuple[Mart, ...]) -> bool:
    """Nothing dirty and every mart built (or skipped) from its current definition."""
    if first_row(con.execute("SELECT 1 FROM mart_dirty LIMIT 1")) is not None:
        return False
    if attributes_changed(con):
        return False
    state = _load_state(con)
    tables = _existing_tables(con)
    for mart in marts:
        status, fingerprint = state.get(mart.name, ("missing", ""))
        if fingerprint != mart.fingerprint() or (status == "built") != (mart.name in tables):
            return False
        if status not in ("built", "skipped"):
            return False
    return True


def _load_state(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    return {
        str(name): (str(status), str(fingerprint))
        for name, status, fingerprint in con.execute(
            "SELECT name, status, fingerprint FROM mart_state"
        ).fetchall()
    }


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        str(name)
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
    }


def _record(
    con: duckdb.DuckDBPyConnection, done: list[tuple[Mart, MartRefresh]], run_id: str | None
) -> None:
    """Each mart's state and, for marts that changed, a line in the refresh log."""
    changed = [(m, o) for m, o in done if o.mode != "unchanged"]
    if not changed:
        return
    state = [
        [
            m.name,
            "skipped" if o.mode == "skipped" else "built",
            o.note,
            m.fingerprint(),
            o.mode,
            o.rows,
            o.seconds,
        ]
        for m, o in changed
    ]
    con.execute(
        "INSERT INTO mart_state VALUES "
        + ", ".join("(?, ?, ?, ?, ?, ?, ?, now())" for _ in state)
        + " ON CONFLICT (name) DO UPDATE SET status = excluded.status, note = excluded.note, "
        "fingerprint = excluded.fingerprint, mode = excluded.mode, rows = excluded.rows, "
        "seconds = excluded.seconds, refreshed_at = excluded.refreshed_at",
        [v for row in state for v in row],
    )
    con.execute(
        "INSERT INTO mart_refresh_log VALUES "
        + ", ".join("(?, ?, ?, ?, ?, now())" for _ in changed),
        [v for m, o in changed for v in (run_id, m.name, o.mode, o.rows, o.seconds)],
    )


def _drop_temps(con: duckdb.DuckDBPyConnection, ctx: _Context | None) -> None:
    with contextlib.suppress(duckdb.Error):
        for view in ctx.views if ctx else ():
            con.execute(f"DROP VIEW IF EXISTS {view}")
        for table in (DIRTY, "_dirty_rows", "_members", *(ctx.day_tables.values() if ctx else ())):
            con.execute(f"DROP TABLE IF EXISTS {table}")
