"""docs/marts.md, generated from the marts' declarations so it cannot drift from them.

`salespipe marts docs --out docs/marts.md` rewrites it; a test fails when it is stale.
"""

from __future__ import annotations

from salespipe.marts.model import Column, Mart
from salespipe.marts.registry import BUILD_ORDER, MARTS

HEADER = """\
# Marts

<!-- Generated from src/salespipe/marts/models/*.py by `salespipe marts docs --out docs/marts.md`.
     Do not edit by hand: tests/test_marts_docs.py fails when this file drifts. -->

Marts are tables in the warehouse, named as below, refreshed after every load (and by
`salespipe marts refresh [--full]`). Each is declared in its own module under
`src/salespipe/marts/models/`: its grain, its columns with their data tests, the
canonical fields it needs, and its SQL as named steps ending in `final`. The SQL is
written once in DuckDB's dialect over `{placeholders}` for the tables it reads, and
transpiles with SQLGlot to PostgreSQL and Spark.

Rules shared by every mart:

- Definitions follow [KPI definitions](kpis.md): `net_sales` includes returns,
  `gross_sales` and `returns_value` split lines by the sign of quantity, a return
  counts in the period of its own `sold_at`.
- Money is exact (`DECIMAL(38,10)`) in the warehouse; `marts show` and `export` round
  it to cents, and ratios (`FLOAT` columns, percentages) to 2 places. The Parquet
  lake keeps exact values.
- `cost`, `profit` and `margin_pct` are null for a row when any of its lines has no
  `unit_cost`, never estimated.
- Product, store, customer and salesperson attributes (category, region, names) are
  the latest known values; when a load changes one, every period the member sold in
  is recomputed.
- A mart whose required field no loaded line carries (e.g. no `customer_id` at all)
  is skipped with a note in `salespipe marts list`, and has no table.
- Every mart is tested after each refresh: its grain is unique, columns marked
  *not null* are, values stay in their declared range, keys exist in their dimension;
  `sales_daily`, `sales_monthly`, `sales_by_store` and `sales_by_category` reconcile
  with the fact table to the cent, `customer_rfm` monetary with customer revenue, and
  the hours of `sales_hourly` add up to `sales_daily` for every day and store.

Refresh modes: *incremental by day or month* recomputes only the partitions the loads
touched (`mart_dirty`); *by member* only the customers touched; *whole* marts are
inherently global (ranks, shares, scores) and are recomputed from small marts.
"""


def _tests(column: Column) -> str:
    parts: list[str] = []
    if column.not_null:
        parts.append("not null")
    if column.accepted:
        parts.append("in " + ", ".join(f"`{v}`" for v in column.accepted))
    if column.min_value is not None and column.max_value is not None:
        parts.append(f"{column.min_value:g} .. {column.max_value:g}")
    elif column.min_value is not None:
        parts.append(f">= {column.min_value:g}")
    elif column.max_value is not None:
        parts.append(f"<= {column.max_value:g}")
    if column.references:
        parts.append(f"in `{column.references}`")
    return ", ".join(parts)


def _type(column: Column) -> str:
    return "MONEY" if column.money else column.type


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_mart(mart: Mart) -> str:
    lines = [f"## {mart.name}", "", mart.description, ""]
    lines.append(f"- **Grain**: one row per {', '.join(f'`{g}`' for g in mart.grain)}")
    needs = ", ".join(f"`{r}`" for r in mart.requires) or "only the required fields"
    lines.append(f"- **Needs**: {needs}")
    lines.append(f"- **Refresh**: {mart.refresh.describe()}")
    if mart.upstream:
        lines.append(f"- **Reads**: {', '.join(f'`{u}`' for u in mart.upstream)}")
    if mart.reconciles:
        lines.append(f"- **Reconciles**: {mart.reconciles.describe()}")
    lines.append("")
    for note in mart.notes:
        lines += [note, ""]
    lines += ["| column | type | description | tests |", "|---|---|---|---|"]
    for c in mart.columns:
        key = " (key)" if c.name in mart.grain else ""
        lines.append(f"| `{c.name}`{key} | {_type(c)} | {_escape(c.description)} | {_tests(c)} |")
    lines += ["", "<details><summary>SQL</summary>", "", "```sql"]
    for name, sql in mart.steps:
        lines += [f"-- {name}", sql.strip(), ""]
    lines[-1:] = ["```", "", "</details>", ""]
    return "\n".join(lines)


def render_marts_doc() -> str:
    index = ["| mart | grain | refresh | needs |", "|---|---|---|---|"]
    for m in MARTS:
        index.append(
            f"| [`{m.name}`](#{m.name}) | {', '.join(m.grain)} | "
            f"{m.refresh.label} | {', '.join(m.requires) or '—'} |"
        )
    intermediate = [m for m in BUILD_ORDER if not m.public]
    parts = [HEADER, "\n".join(index), ""]
    parts += [render_mart(m) for m in MARTS]
    parts += [
        "## Intermediate models",
        "",
        "Internal building blocks, also tables in the warehouse, so that global marts read "
        "small inputs instead of every fact line. They are not part of the public surface.",
        "",
    ]
    parts += [render_mart(m).replace("## ", "### ", 1) for m in intermediate]
    return "\n".join(parts).rstrip() + "\n"
