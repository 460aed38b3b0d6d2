"""Reconciliation: mart totals equal the fact table's, to the cent.

A total that differs is broken down by day or month to show where the mart and the
fact disagree. The fact's totals are computed once per check run (`_recon_fact`).
"""

from __future__ import annotations

import duckdb

from salespipe.quality.model import DataTest

# measure in the mart -> the same measure over fact lines; money compared to the cent
MEASURES: dict[str, str] = {
    "net_sales": "sum(line_revenue)",
    "gross_sales": "coalesce(sum(line_revenue) FILTER (WHERE quantity > 0), 0)",
    "returns_value": "coalesce(-sum(line_revenue) FILTER (WHERE quantity < 0), 0)",
    "units_sold": "coalesce(sum(quantity) FILTER (WHERE quantity > 0), 0)",
    "net_units": "coalesce(sum(quantity), 0)",
    "lines": "count(*)",
}
# mart -> (its column holding the period, the same period over fact lines)
RECONCILED: dict[str, tuple[str, str]] = {
    "sales_daily": ("sale_date", "sale_date"),
    "sales_monthly": ("month", "CAST(date_trunc('month', sale_date) AS DATE)"),
    "sales_by_store": ("month", "CAST(date_trunc('month', sale_date) AS DATE)"),
    "sales_by_category": ("month", "CAST(date_trunc('month', sale_date) AS DATE)"),
}
FACT_TOTALS = "_recon_fact"


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The fact's totals, once, for every reconciliation test of this check run."""
    measures = ", ".join(f"{sql} AS {name}" for name, sql in MEASURES.items())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FACT_TOTALS} AS SELECT {measures}, "
        "coalesce(sum(line_revenue) FILTER (WHERE customer_id IS NOT NULL), 0) AS customer_revenue "
        "FROM fact_sales"
    )


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {FACT_TOTALS}")


def _differs(left: str, right: str, name: str) -> str:
    if name in ("net_sales", "gross_sales", "returns_value"):
        return f"round(coalesce({left}.{name}, 0), 2) <> round(coalesce({right}.{name}, 0), 2)"
    return f"coalesce({left}.{name}, 0) <> coalesce({right}.{name}, 0)"


def total_test(mart: str, *, pending: bool = False) -> DataTest:
    """The mart's totals against the fact's; broken down by period when they differ.

    With `pending` (keys of loads not yet absorbed, as when another process loaded
    meanwhile), the periods those loads touched are left out of the comparison.
    """
    period, fact_period = RECONCILED[mart]
    sums = ", ".join(f"sum({name}) AS {name}" for name in MEASURES)
    cols = ", ".join(f"m.{n} AS mart_{n}, f.{n} AS fact_{n}" for n in MEASURES)
    differs = " OR ".join(_differs("m", "f", n) for n in MEASURES)
    fact_measures = ", ".join(f"{sql} AS {name}" for name, sql in MEASURES.items())
    by_period = (
        f"SELECT coalesce(m.period, f.period) AS period, {cols} "
        f"FROM (SELECT {period} AS period, {sums} FROM {mart} GROUP BY {period}) m "
        f"FULL JOIN (SELECT {fact_period} AS period, {fact_measures} FROM fact_sales "
        f"GROUP BY {fact_period}) f ON f.period = m.period "
        f"WHERE ({differs})"
    )
    name = f"{mart}: totals = fact"
    description = "net_sales, gross_sales, returns_value (to the cent), units and lines"
    if pending:
        days = "CAST(key AS DATE)"
        pending_period = (
            days if period == "sale_date" else f"CAST(date_trunc('month', {days}) AS DATE)"
        )
        return DataTest(
            name=name,
            kind="reconcile",
            target=mart,
            sql=(
                f"{by_period} AND coalesce(m.period, f.period) NOT IN "
                f"(SELECT {pending_period} FROM mart_dirty WHERE kind = 'date')"
            ),
            description=description + ", periods waiting for a refresh left out",
        )
    return DataTest(
        name=name,
        kind="reconcile",
        target=mart,
        sql=(
            f"SELECT {cols} FROM (SELECT {sums} FROM {mart}) m CROSS JOIN {FACT_TOTALS} f "
            f"WHERE {differs}"
        ),
        description=description,
        detail_sql=f"{by_period} ORDER BY 1",
    )


PER_CUSTOMER = (
    "SELECT coalesce(r.customer_id, f.customer_id) AS customer_id, "
    "r.monetary AS mart_monetary, f.revenue AS fact_revenue FROM customer_rfm r "
    "FULL JOIN (SELECT customer_id, sum(line_revenue) AS revenue FROM fact_sales "
    "WHERE customer_id IS NOT NULL GROUP BY customer_id "
    "HAVING count(*) FILTER (WHERE quantity > 0) > 0) f ON f.customer_id = r.customer_id "
    "WHERE r.customer_id IS NULL OR f.customer_id IS NULL "
    "OR round(r.monetary, 2) <> round(f.revenue, 2)"
)


def rfm_test(*, per_customer: bool, pending: bool = False) -> DataTest:
    """customer_rfm monetary = customer revenue in the fact.

    After a load, one total: scored customers' monetary plus the revenue of customers
    with returns only equals the revenue of every line with a customer (one pass over
    two fact columns). `salespipe check` compares every customer, and also finds a
    purchasing customer missing from the mart. Customers of loads not yet absorbed
    (`pending`) are left out.
    """
    detail: str | None = None
    if pending:
        sql = (
            f"SELECT * FROM ({PER_CUSTOMER}) x WHERE customer_id NOT IN "
            "(SELECT key FROM mart_dirty WHERE kind = 'customer')"
        )
    elif per_customer:
        sql = PER_CUSTOMER
    else:
        sql = (
            "SELECT m.monetary AS mart_monetary, o.revenue AS returns_only_revenue, "
            f"f.customer_revenue AS fact_revenue FROM {FACT_TOTALS} f "
            "CROSS JOIN (SELECT coalesce(sum(monetary), 0) AS monetary FROM customer_rfm) m "
            "CROSS JOIN (SELECT coalesce(sum(net_sales), 0) AS revenue FROM int_customer_totals "
            "WHERE last_purchase_date IS NULL) o "
            "WHERE round(m.monetary + o.revenue, 2) <> round(f.customer_revenue, 2)"
        )
        detail = PER_CUSTOMER + " ORDER BY 1"
    return DataTest(
        name="customer_rfm: monetary = customer revenue",
        kind="reconcile",
        target="customer_rfm",
        sql=sql,
        description="monetary of scored customers = their net sales in the fact",
        detail_sql=detail,
    )


def reconcile_tests(
    available: set[str], *, thorough: bool = True, pending: bool = False
) -> list[DataTest]:
    tests = [total_test(m, pending=pending) for m in RECONCILED if m in available]
    if "customer_rfm" in available:
        tests.append(rfm_test(per_customer=thorough, pending=pending))
    return tests
