"""Which optional canonical fields the loaded data actually has.

A mart that needs a field no loaded line carries (no customer_id at all, say) is
skipped with a note rather than filled with invented values.
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
    names = ", ".join(missing)
    return f"skipped: no loaded line has {names}; map {names} in a source's `columns:` to enable it"
