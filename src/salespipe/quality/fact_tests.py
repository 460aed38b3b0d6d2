"""Data tests of the fact table: unique keys, required values, ranges, links to dimensions.

After a load they look only at the lines of the run's files (a 10M-line fact is not
rescanned per run); `salespipe check` looks at every line.
"""

from __future__ import annotations

from salespipe.quality.model import DataTest
from salespipe.warehouse.schema import DIMENSIONS

REQUIRED = (
    "sold_at",
    "sale_date",
    "store_id",
    "product_id",
    "quantity",
    "unit_price",
    "line_revenue",
)
RANGES = (
    ("quantity", "quantity = 0"),
    ("unit_price", "unit_price < 0"),
    ("discount", "discount < 0"),
    ("unit_cost", "unit_cost < 0"),
    ("fx_rate", "fx_rate <= 0"),
)


def fact_tests(file_ids: list[int] | None) -> list[DataTest]:
    """Tests of fact_sales, limited to the given files' lines (all lines when None)."""
    ids = ", ".join(str(int(i)) for i in file_ids or []) or "NULL"
    scope = "" if file_ids is None else f" AND f.file_id IN ({ids})"
    rows_of = f"FROM fact_sales f WHERE TRUE{scope}"
    tests = [
        DataTest(
            name="fact_sales: unique (source, row_key)",
            kind="unique",
            target="fact_sales",
            sql=(
                # The run's lines, plus the older lines that share a key with one of them:
                # cheaper than probing the whole fact with the run's keys (a first load of
                # 10M lines has no older lines at all).
                "SELECT source, row_key, count(*) AS copies FROM ("
                f"SELECT f.source, f.row_key {rows_of} UNION ALL "
                f"SELECT o.source, o.row_key FROM fact_sales o WHERE NOT (o.file_id IN ({ids})) "
                f"AND EXISTS (SELECT 1 {rows_of} AND f.source = o.source AND f.row_key = o.row_key)"
                ") AS k GROUP BY source, row_key HAVING count(*) > 1"
                if file_ids is not None
                else "SELECT source, row_key, count(*) AS copies FROM fact_sales "
                "GROUP BY source, row_key HAVING count(*) > 1"
            ),
            description="a row key is loaded once per source (upserts replace)",
        ),
        DataTest(
            name="fact_sales: not null",
            kind="not_null",
            target="fact_sales",
            sql=(
                "SELECT f.file_id, f.row_key, concat_ws(', ', "
                + ", ".join(f"CASE WHEN f.{c} IS NULL THEN '{c}' END" for c in REQUIRED)
                + f") AS null_columns {rows_of} AND ("
                + " OR ".join(f"f.{c} IS NULL" for c in REQUIRED)
                + ")"
            ),
            description="required canonical fields: " + ", ".join(REQUIRED),
        ),
        DataTest(
            name="fact_sales: accepted values",
            kind="accepted",
            target="fact_sales",
            sql=(
                "SELECT f.file_id, f.row_key, concat_ws(', ', "
                + ", ".join(f"CASE WHEN f.{cond} THEN '{c}' END" for c, cond in RANGES)
                + f") AS out_of_bounds {rows_of} AND ("
                + " OR ".join(f"f.{cond}" for _, cond in RANGES)
                + ")"
            ),
            description="quantity <> 0, unit_price, discount, unit_cost >= 0, fx_rate > 0",
        ),
    ]
    for table, (key, _) in DIMENSIONS.items():
        tests.append(_relationship(table, key, rows_of))
    tests.append(
        DataTest(
            name="fact_sales: sale_date -> dim_date",
            kind="relationship",
            target="fact_sales",
            sql=(
                f"SELECT DISTINCT f.sale_date {rows_of} AND NOT EXISTS "
                "(SELECT 1 FROM dim_date d WHERE d.date = f.sale_date)"
            ),
            description="every business day is in dim_date",
        )
    )
    return tests


def _relationship(table: str, key: str, rows_of: str) -> DataTest:
    return DataTest(
        name=f"fact_sales: {key} -> {table}",
        kind="relationship",
        target="fact_sales",
        sql=(
            f"SELECT DISTINCT f.{key} {rows_of} AND f.{key} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {table} d WHERE d.{key} = f.{key})"
        ),
        description=f"every {key} of a line is in {table}",
    )
