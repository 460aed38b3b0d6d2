"""What an incremental refresh must recompute: the dirty keys, widened to whole partitions.

`mart_dirty` lists the dates and members each load touched (old versions of updated
rows included). A dimension attribute that changed since the marts were built (a
product moved to another category) dirties every date that product sold on. From the
dirty dates each mart derives its target partitions (days, or months) and the input
days it must read to recompute them (a rolling window reads 27 days back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from salespipe.marts.model import ByDate, ByMonth
from salespipe.warehouse.schema import DIMENSIONS
from salespipe.warehouse.sql import first_row

DIRTY = "_dirty"


def seen_table(dimension: str) -> str:
    return "mart_seen_" + dimension.removeprefix("dim_")


@dataclass
class DirtySet:
    """The dirty keys one refresh consumes."""

    files: int  # loads whose keys are consumed (their rows leave mart_dirty at commit)
    dates: list[date]
    counts: dict[str, int]  # kind -> keys
    changed_members: dict[str, int]  # kind -> members whose dimension attributes changed

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


def collect_dirty(con: duckdb.DuckDBPyConnection) -> DirtySet:
    """Copy mart_dirty into `_dirty_rows` (one read) and its distinct keys into `_dirty`.

    Only the loads read here are consumed: a load that commits meanwhile (possible on a
    server engine) keeps its keys for the next refresh.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _dirty_rows AS SELECT file_id, kind, key FROM mart_dirty"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DIRTY} AS SELECT DISTINCT kind, key FROM _dirty_rows"
    )
    changed = _add_changed_attributes(con)
    counts = {
        str(kind): int(n)
        for kind, n in con.execute(
            f"SELECT kind, count(DISTINCT key) FROM {DIRTY} GROUP BY kind ORDER BY kind"
        ).fetchall()
    }
    dates = [
        date.fromisoformat(str(k))
        for (k,) in con.execute(
            f"SELECT DISTINCT key FROM {DIRTY} WHERE kind = 'date' AND key IS NOT NULL ORDER BY key"
        ).fetchall()
    ]
    files = first_row(con.execute("SELECT count(DISTINCT file_id) FROM _dirty_rows"))
    return DirtySet(
        files=int(files[0]) if files else 0, dates=dates, counts=counts, changed_members=changed
    )


def consume_dirty(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the keys of the loads this refresh read (at its commit)."""
    con.execute(
        "DELETE FROM mart_dirty WHERE file_id IN (SELECT DISTINCT file_id FROM _dirty_rows)"
    )


def _changed_sql(table: str, key: str, attrs: tuple[str, ...]) -> str:
    """Members of a dimension whose attributes differ from the marts' snapshot."""
    seen = seen_table(table)
    cols = ", ".join((key, *attrs))
    return (
        f"SELECT {key} AS key FROM (SELECT {cols} FROM {table} EXCEPT SELECT {cols} FROM {seen}) c "
        f"WHERE {key} IN (SELECT {key} FROM {seen})"
    )


def attributes_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any dimension attribute changed since the marts were last refreshed."""
    return any(
        first_row(con.execute(_changed_sql(table, key, attrs) + " LIMIT 1")) is not None
        for table, (key, attrs) in DIMENSIONS.items()
    )


def _add_changed_attributes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Members whose attributes differ from the marts' snapshot dirty all their dates.

    Every member is compared, not only those a load's lines touched: a load also
    updates attributes from lines it does not insert (duplicates), and dimensions are
    small next to the fact.
    """
    changed: dict[str, int] = {}
    for table, (key, attrs) in DIMENSIONS.items():
        kind = table.removeprefix("dim_")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _changed AS {_changed_sql(table, key, attrs)}")
        n = int(first_row(con.execute("SELECT count(*) FROM _changed"))[0])  # type: ignore[index]
        if not n:
            continue
        changed[kind] = n
        con.execute(f"INSERT INTO {DIRTY} SELECT ?, key FROM _changed", [kind])
        # Every date the member sold on is dirty: its rows move between groups everywhere.
        con.execute(
            f"INSERT INTO {DIRTY} SELECT DISTINCT 'date', CAST(sale_date AS VARCHAR) "
            f"FROM fact_sales WHERE {key} IN (SELECT key FROM _changed)"
        )
    con.execute("DROP TABLE IF EXISTS _changed")
    return changed


def save_seen_attributes(con: duckdb.DuckDBPyConnection, *, everything: bool) -> None:
    """Record the attributes the marts now reflect: all members, or the touched ones."""
    for table, (key, attrs) in DIMENSIONS.items():
        kind = table.removeprefix("dim_")
        seen = seen_table(table)
        cols = ", ".join((key, *attrs))
        if everything:
            con.execute(f"DELETE FROM {seen}")
            con.execute(f"INSERT INTO {seen} SELECT {cols} FROM {table}")
            continue
        touched = f"{key} IN (SELECT key FROM {DIRTY} WHERE kind = '{kind}')"
        con.execute(f"DELETE FROM {seen} WHERE {touched}")
        con.execute(f"INSERT INTO {seen} SELECT {cols} FROM {table} WHERE {touched}")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_days(month: date) -> list[date]:
    end = add_months(month, 1)
    return [month + timedelta(days=i) for i in range((end - month).days)]


def target_partitions(refresh: ByDate | ByMonth, dirty_dates: list[date]) -> list[date]:
    """The days (or month starts) whose rows must be recomputed."""
    if isinstance(refresh, ByDate):
        return sorted(
            {d + timedelta(days=k) for d in dirty_dates for k in range(refresh.ahead + 1)}
        )
    months = {month_start(d) for d in dirty_dates}
    return sorted({add_months(m, k) for m in months for k in range(refresh.ahead + 1)})


def input_days(refresh: ByDate | ByMonth, targets: list[date], lookback: int) -> list[date]:
    """The business days a source must be read on to recompute the targets."""
    if isinstance(refresh, ByDate):
        return sorted({t - timedelta(days=k) for t in targets for k in range(lookback + 1)})
    months = sorted({add_months(t, -k) for t in targets for k in range(lookback + 1)})
    return [d for m in months for d in month_days(m)]
