"""KPIs exactly as DESIGN.md defines them, computed in the warehouse over the fact table.

Amounts are exact decimals; they are rounded to cents only by `to_output`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from salespipe.errors import UsageError
from salespipe.warehouse.sql import first_row

CENT = Decimal("0.01")


@dataclass(frozen=True)
class KpiFilter:
    date_from: date | None = None
    date_to: date | None = None
    store: str | None = None
    region: str | None = None
    category: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.date_from:
            clauses.append("f.sale_date >= ?")
            params.append(self.date_from)
        if self.date_to:
            clauses.append("f.sale_date <= ?")
            params.append(self.date_to)
        if self.store:
            clauses.append("f.store_id = ?")
            params.append(self.store)
        if self.region:
            clauses.append("f.store_id IN (SELECT store_id FROM dim_store WHERE region = ?)")
            params.append(self.region)
        if self.category:
            clauses.append(
                "f.product_id IN (SELECT product_id FROM dim_product WHERE category = ?)"
            )
            params.append(self.category)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


# filter -> (how the dimension holds its values, what the value is called, plural)
MEMBERS = {
    "store": ("SELECT DISTINCT store_id FROM dim_store", "store_id", "stores"),
    "region": ("SELECT DISTINCT region FROM dim_store", "region", "regions"),
    "category": ("SELECT DISTINCT category FROM dim_product", "category", "categories"),
}


def check_members(con: duckdb.DuckDBPyConnection, flt: KpiFilter) -> None:
    """A filter value no dimension holds is a typo, not a zero: a UsageError that names
    the filter and shows values the warehouse has (a known member with no sales in the
    period is a real zero, and passes)."""
    for name, (values, column, plural) in MEMBERS.items():
        value = getattr(flt, name)
        if value is None:
            continue
        found = first_row(
            con.execute(f"SELECT 1 FROM ({values}) AS m WHERE {column} = ? LIMIT 1", [value])
        )
        if found is not None:
            continue
        known = [
            str(r[0])
            for r in con.execute(
                f"SELECT {column} FROM ({values}) AS m WHERE {column} IS NOT NULL "
                f"ORDER BY 1 LIMIT 11"
            ).fetchall()
        ]
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        raise UsageError(
            f"no {name} {value!r} in the warehouse",
            field=name,
            hint=f"{plural} the warehouse has: {shown}" if known else "nothing is loaded yet",
        )


KPI_SQL = """
SELECT
  sum(line_revenue) AS net_sales,
  coalesce(sum(line_revenue) FILTER (WHERE quantity > 0), 0) AS gross_sales,
  coalesce(-sum(line_revenue) FILTER (WHERE quantity < 0), 0) AS returns_value,
  CASE WHEN count(*) = 0 THEN 0
       WHEN count(transaction_id) > 0
       THEN count(DISTINCT transaction_id) FILTER (WHERE quantity > 0) END AS orders,
  coalesce(sum(quantity) FILTER (WHERE quantity > 0), 0) AS units_sold,
  sum(quantity) AS net_units,
  count(DISTINCT store_id) AS active_stores,
  CASE WHEN count(line_cost) = count(*) THEN sum(line_cost) END AS cost,
  min(sale_date) AS first_date,
  max(sale_date) AS last_date,
  count(*) AS lines
FROM fact_sales f
"""


def compute_kpis(con: duckdb.DuckDBPyConnection, flt: KpiFilter) -> dict[str, Any]:
    where, params = flt.where()
    row = first_row(con.execute(KPI_SQL + where, params))
    assert row is not None
    (net, gross, returns, orders, units, net_units, stores, cost, first, last, lines) = row
    net = net if net is not None else Decimal(0)
    result: dict[str, Any] = {
        "net_sales": net,
        "gross_sales": gross,
        "returns_value": returns,
        "orders": orders,
        "units_sold": units,
        "net_units": net_units if net_units is not None else Decimal(0),
        "average_order_value": (gross / orders) if orders else None,
        "active_stores": stores,
        "cost": cost,
        "profit": (net - cost) if cost is not None else None,
        "margin_pct": (Decimal(100) * (net - cost) / net) if cost is not None and net else None,
        "lines": lines,
        "from": flt.date_from or first,
        "to": flt.date_to or last,
    }
    return result


MONEY_KEYS = ("net_sales", "gross_sales", "returns_value", "average_order_value", "cost", "profit")


def to_output(kpis: dict[str, Any]) -> dict[str, Any]:
    """Round money to cents, quantities to their natural scale, dates to ISO text."""
    out: dict[str, Any] = {}
    for key, value in kpis.items():
        if value is None:
            out[key] = None
        elif key in MONEY_KEYS or key == "margin_pct":
            out[key] = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
        elif isinstance(value, Decimal):
            out[key] = value.normalize() if value == value.to_integral() else value
            if value == value.to_integral():
                out[key] = int(value)
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
