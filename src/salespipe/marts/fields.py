"""Which optional canonical fields the loaded data actually has (and whether sold_at has times).

A mart that needs a field no loaded line carries (no customer_id at all, say, or no
time of day when every source sends dates alone) is skipped with a note rather than
filled with invented values.
"""

from __future__ import annotations

import duckdb

from salespipe.warehouse.sql import first_row

# field -> a query returning a row when at least one line (or product) carries it.
FIELD_PROBES: dict[str, str] = {
    "transaction_id": "SELECT 1 FROM fact_sales WHERE transaction_id IS NOT NULL LIMIT 1",
    "customer_id": "SELECT 1 FROM fact_sales WHERE customer_id IS NOT NULL LIMIT 1",
    "salesperson_id": "SELECT 1 FROM fact_sales WHERE salesperson_id IS NOT NULL LIMIT 1",
    "unit_cost": "SELECT 1 FROM fact_sales WHERE unit_cost IS NOT NULL LIMIT 1",
    "category": "SELECT 1 FROM dim_product WHERE category IS NOT NULL LIMIT 1",
    # A line whose local time (in its store's zone) is not its business day's midnight:
    # a source of dates alone (daily totals) stores every sold_at at local midnight.
    "time_of_day": (
        "SELECT 1 FROM fact_sales f LEFT JOIN dim_store s ON s.store_id = f.store_id "
        "WHERE timezone(coalesce(s.timezone, 'UTC'), f.sold_at) <> CAST(f.sale_date AS TIMESTAMP) "
        "AND CAST(timezone(coalesce(s.timezone, 'UTC'), f.sold_at) AS DATE) = f.sale_date LIMIT 1"
    ),
}

# Needs that are a property of a field rather than a field: what is missing, and the fix.
DERIVED_NEEDS: dict[str, tuple[str, str]] = {
    "time_of_day": (
        "a time of day (every sold_at is a date alone)",
        "map sold_at to the date and time of sale, e.g. `sold_at: {expr: \"date || ' ' || time\"}`,"
        " to enable it",
    ),
}


class FieldProbe:
    """Answers "does the data have field X?", asking the warehouse once per field."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._known: dict[str, bool] = {}

    def has(self, field: str) -> bool:
        if field not in self._known:
            self._known[field] = first_row(self.con.execute(FIELD_PROBES[field])) is not None
        return self._known[field]

    def missing(self, fields: tuple[str, ...]) -> list[str]:
        return [f for f in fields if not self.has(f)]


def skip_note(missing: list[str]) -> str:
    parts: list[str] = []
    fields = [f for f in missing if f not in DERIVED_NEEDS]
    if fields:
        names = ", ".join(fields)
        parts.append(
            f"no loaded line has {names}; map {names} in a source's `columns:` to enable it"
        )
    for need in missing:
        if need in DERIVED_NEEDS:
            what, fix = DERIVED_NEEDS[need]
            parts.append(f"no loaded line has {what}; {fix}")
    return "skipped: " + "; ".join(parts)
