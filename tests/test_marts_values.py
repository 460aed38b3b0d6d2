"""Mart values against expectations computed here, in plain Python, from the raw rows.

One dataset (loaded once) covers: months with a gap (March has no sales), a return in a
later month than its sale, discounts, a line without unit_cost, lines without customer
or salesperson, an exact tie for a store's best salesperson, customers tied on RFM values.
Every public mart is recomputed independently below and compared row by row.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .conftest import BASIC_CONFIG, HEADER, Project

COLUMNS = [*HEADER, "subcategory", "salesperson_id"]
CENT = Decimal("0.01")
STORES = {"S1": ("Paris", "West"), "S2": ("Lyon", "East"), "S3": ("Nice", "East")}
PRODUCTS = {
    "P1": ("Food", "Bakery"),
    "P2": ("Food", "Dairy"),
    "P3": ("Home", "Kitchen"),
    "P4": ("Home", "Garden"),
    "P5": ("Toys", "Games"),
    "P6": ("Toys", "Games"),
}


def sale(
    tid: str,
    no: int,
    day: str,
    store: str,
    product: str,
    qty: str,
    price: str,
    *,
    discount: str = "0",
    cost: str | None = "2.50",
    customer: str | None = None,
    salesperson: str | None = None,
    at: str = "12:00:00",
) -> dict[str, Any]:
    city, region = STORES[store]
    category, subcategory = PRODUCTS[product]
    return {
        "transaction_id": tid,
        "line_no": str(no),
        "sold_at": f"{day} {at}",
        "store_id": store,
        "store_name": f"Store {store}",
        "city": city,
        "region": region,
        "country": "FR",
        "product_id": product,
        "product_name": f"Product {product}",
        "category": category,
        "subcategory": subcategory,
        "quantity": qty,
        "unit_price": price,
        "discount": discount,
        "unit_cost": cost,
        "customer_id": customer,
        "salesperson_id": salesperson,
    }


ROWS: list[dict[str, Any]] = [
    # January, store S1: E1 and E2 tie exactly for rank 1 (20.50 each), E3 is second.
    sale("T1", 1, "2025-01-05", "S1", "P1", "2", "10.25", customer="C1", salesperson="E1"),
    sale(
        "T2",
        1,
        "2025-01-05",
        "S1",
        "P2",
        "1",
        "20.50",
        customer="C2",
        salesperson="E2",
        at="09:15:00",
    ),
    sale("T3", 1, "2025-01-06", "S1", "P3", "1", "5.00", customer="C3", salesperson="E3"),
    sale(
        "T3",
        2,
        "2025-01-06",
        "S1",
        "P5",
        "3",
        "4.00",
        discount="1.50",
        customer="C3",
        salesperson="E3",
    ),
    # January, store S2: one salesperson, a line without unit_cost, a line without customer.
    sale(
        "T4", 1, "2025-01-10", "S2", "P4", "1", "99.99", cost=None, customer="C4", salesperson="E4"
    ),
    sale("T5", 1, "2025-01-20", "S2", "P1", "5", "10.25", salesperson="E4"),
    # The day's only line sits at midnight: no time of day (hour null in sales_hourly).
    sale("T6", 1, "2025-01-31", "S3", "P6", "1", "7.77", customer="C5", at="00:00:00"),
    # February: the return of one P1 sold in January (counts in February), new sales.
    sale(
        "R1",
        1,
        "2025-02-02",
        "S1",
        "P1",
        "-1",
        "10.25",
        customer="C1",
        salesperson="E1",
        at="23:59:59",
    ),
    sale("T7", 1, "2025-02-03", "S1", "P2", "2", "20.50", customer="C2", salesperson="E2"),
    sale(
        "T8",
        1,
        "2025-02-14",
        "S2",
        "P3",
        "4",
        "5.00",
        discount="2.00",
        customer="C6",
        salesperson="E4",
    ),
    sale("T9", 1, "2025-02-14", "S3", "P5", "1", "4.00", customer="C1"),
    # A customer whose only line is a return: no purchase, not scored.
    sale("R2", 1, "2025-02-20", "S2", "P4", "-1", "99.99", customer="C9", salesperson="E4"),
    # March: nothing at all. April: C3 and C4 tie on every RFM value.
    # A sale at midnight on a day with other times: a real hour 0.
    sale(
        "T10",
        1,
        "2025-04-01",
        "S1",
        "P1",
        "1",
        "10.25",
        customer="C3",
        salesperson="E1",
        at="00:00:00",
    ),
    sale("T11", 1, "2025-04-01", "S1", "P1", "1", "10.25", customer="C4", salesperson="E2"),
    sale("T12", 1, "2025-04-02", "S3", "P6", "2", "7.77", customer="C7"),
    sale(
        "T13",
        1,
        "2025-04-08",
        "S2",
        "P2",
        "1",
        "20.50",
        discount="0.50",
        customer="C2",
        salesperson="E4",
    ),
    sale("T13", 2, "2025-04-08", "S2", "P5", "1", "4.00", customer="C2", salesperson="E4"),
]


# ---------------------------------------------------------------- the independent model


def d(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


class Line:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.tid: str = raw["transaction_id"]
        self.at = datetime.strptime(raw["sold_at"], "%Y-%m-%d %H:%M:%S")
        self.day: date = self.at.date()
        self.month: date = self.day.replace(day=1)
        self.store: str = raw["store_id"]
        self.product: str = raw["product_id"]
        self.category, self.subcategory = PRODUCTS[self.product]
        self.customer: str | None = raw["customer_id"]
        self.salesperson: str | None = raw["salesperson_id"]
        self.qty = Decimal(raw["quantity"])
        self.price = Decimal(raw["unit_price"])
        self.discount = Decimal(raw["discount"])
        unit_cost = d(raw["unit_cost"])
        self.revenue = self.qty * self.price - self.discount
        self.cost = self.qty * unit_cost if unit_cost is not None else None


LINES = [Line(r) for r in ROWS]


def group(lines: Iterable[Line], key: Callable[[Line], Any]) -> dict[Any, list[Line]]:
    out: dict[Any, list[Line]] = defaultdict(list)
    for ln in lines:
        out[key(ln)].append(ln)
    return out


def measures(lines: list[Line]) -> dict[str, Any]:
    sales = [ln for ln in lines if ln.qty > 0]
    net = sum((ln.revenue for ln in lines), Decimal(0))
    cost = (
        sum((ln.cost for ln in lines if ln.cost is not None), Decimal(0))
        if all(ln.cost is not None for ln in lines)
        else None
    )
    orders = len({ln.tid for ln in sales})
    gross = sum((ln.revenue for ln in sales), Decimal(0))
    return {
        "net_sales": net,
        "gross_sales": gross,
        "returns_value": -sum((ln.revenue for ln in lines if ln.qty < 0), Decimal(0)),
        "orders": orders,
        "units_sold": sum((ln.qty for ln in sales), Decimal(0)),
        "net_units": sum((ln.qty for ln in lines), Decimal(0)),
        "lines": len(lines),
        "cost": cost,
        "profit": net - cost if cost is not None else None,
        "margin_pct": float(100 * (net - cost) / net) if cost is not None and net else None,
        "average_order_value": float(gross / orders) if orders else None,
    }


def pct(part: Decimal, whole: Decimal) -> float | None:
    return float(100 * part / whole) if whole else None


def ntile5(ordered: list[str]) -> dict[str, int]:
    q, r = divmod(len(ordered), 5)
    sizes = [q + 1] * r + [q] * (5 - r)
    out: dict[str, int] = {}
    i = 0
    for bucket, size in enumerate(sizes, start=1):
        for key in ordered[i : i + size]:
            out[key] = bucket
        i += size
    return out


def trading_months() -> list[date]:
    return sorted({ln.month for ln in LINES})


def next_month(m: date) -> date:
    return (m + timedelta(days=32)).replace(day=1)


def expected(name: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return EXPECTED[name]()


def exp_sales_daily() -> dict[tuple[Any, ...], dict[str, Any]]:
    return {k: measures(v) for k, v in group(LINES, lambda ln: (ln.day, ln.store)).items()}


def exp_sales_monthly() -> dict[tuple[Any, ...], dict[str, Any]]:
    by_month = group(LINES, lambda ln: ln.month)
    out = {}
    for m, lines in by_month.items():
        row = measures(lines)
        row["active_stores"] = len({ln.store for ln in lines})
        prev = by_month.get((m - timedelta(days=1)).replace(day=1))
        prev_net = measures(prev)["net_sales"] if prev else None
        row["previous_net_sales"] = prev_net
        row["mom_pct"] = float(100 * (row["net_sales"] - prev_net) / prev_net) if prev_net else None
        out[(m,)] = row
    return out


def exp_sales_by_store() -> dict[tuple[Any, ...], dict[str, Any]]:
    groups = group(LINES, lambda ln: (ln.month, ln.store))
    region_net: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for (m, s), lines in groups.items():
        region_net[(m, STORES[s][1])] += measures(lines)["net_sales"]
    out = {}
    for (m, s), lines in groups.items():
        row = measures(lines)
        row.update(region=STORES[s][1], city=STORES[s][0], store_name=f"Store {s}")
        row["active_days"] = len({ln.day for ln in lines})
        row["share_of_region_pct"] = pct(row["net_sales"], region_net[(m, STORES[s][1])])
        out[(m, s)] = row
    return out


def exp_sales_by_category() -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    for k, lines in group(LINES, lambda ln: (ln.month, ln.category, ln.subcategory)).items():
        row = measures(lines)
        row["products"] = len({ln.product for ln in lines})
        out[k] = row
    return out


def rank(values: dict[Any, Decimal]) -> dict[Any, int]:
    """SQL RANK() by value, highest first."""
    return {k: 1 + sum(1 for w in values.values() if w > v) for k, v in values.items()}


def exp_top_products() -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    for m, lines in group(LINES, lambda ln: ln.month).items():
        per = {p: measures(ls) for p, ls in group(lines, lambda ln: ln.product).items()}
        by_rev = rank({p: r["net_sales"] for p, r in per.items()})
        by_units = rank({p: r["units_sold"] for p, r in per.items()})
        for p, row in per.items():
            row.update(revenue_rank=by_rev[p], units_rank=by_units[p], category=PRODUCTS[p][0])
            out[(m, p)] = row
    return out


def abc(revenues: dict[str, Decimal]) -> dict[tuple[Any, ...], dict[str, Any]]:
    ordered = sorted(revenues, key=lambda p: (-revenues[p], p))
    total = sum(revenues.values(), Decimal(0))
    out = {}
    before = Decimal(0)
    for position, p in enumerate(ordered, start=1):
        cls = None
        if total > 0:
            cls = "A" if 100 * before < 80 * total else "B" if 100 * before < 95 * total else "C"
        before += revenues[p]
        out[(p,)] = {
            "pareto_rank": position,
            "net_sales": revenues[p],
            "share_pct": pct(revenues[p], total) if total > 0 else None,
            "cumulative_share_pct": pct(before, total) if total > 0 else None,
            "abc_class": cls,
        }
    return out


def exp_product_abc() -> dict[tuple[Any, ...], dict[str, Any]]:
    per = group(LINES, lambda ln: ln.product)
    out = abc({p: measures(ls)["net_sales"] for p, ls in per.items()})
    for (p,), row in out.items():
        row.update({k: measures(per[p])[k] for k in ("units_sold", "cost", "profit", "margin_pct")})
    return out


def exp_store_category_matrix() -> dict[tuple[Any, ...], dict[str, Any]]:
    groups = group(LINES, lambda ln: (ln.month, ln.store, ln.category))
    store_net: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for (m, s, _), lines in groups.items():
        store_net[(m, s)] += measures(lines)["net_sales"]
    out = {}
    for (m, s, c), lines in groups.items():
        row = measures(lines)
        row["share_of_store_pct"] = pct(row["net_sales"], store_net[(m, s)])
        out[(m, s, c)] = row
    return out


def exp_store_variance() -> dict[tuple[Any, ...], dict[str, Any]]:
    months = trading_months()
    out = {}
    for s, lines in group(LINES, lambda ln: ln.store).items():
        per_month = {
            m: measures(ls)["net_sales"] for m, ls in group(lines, lambda ln: ln.month).items()
        }
        first = min(per_month)
        series = [per_month.get(m, Decimal(0)) for m in months if m >= first]
        mean = sum(series, Decimal(0)) / len(series)
        sd = statistics.stdev([float(x) for x in series]) if len(series) > 1 else None
        out[(s,)] = {
            "first_month": first,
            "months": len(series),
            "months_with_sales": len(per_month),
            "net_sales": sum(series, Decimal(0)),
            "mean_monthly_net_sales": float(mean),
            "stddev_monthly_net_sales": sd,
            "cv_pct": 100 * sd / abs(float(mean)) if sd is not None and mean else None,
        }
    return out


def exp_price_quantity() -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    for (m, p, price), lines in group(LINES, lambda ln: (ln.month, ln.product, ln.price)).items():
        sales = [ln for ln in lines if ln.qty > 0]
        units = sum((ln.qty for ln in sales), Decimal(0))
        gross = sum((ln.revenue for ln in sales), Decimal(0))
        out[(m, p, price)] = {
            "lines": len(lines),
            "units_sold": units,
            "units_returned": -sum((ln.qty for ln in lines if ln.qty < 0), Decimal(0)),
            "gross_sales": gross,
            "discount_value": sum((ln.discount for ln in sales), Decimal(0)),
            "average_net_price": float(gross / units) if units else None,
        }
    return out


def exp_item_consistency() -> dict[tuple[Any, ...], dict[str, Any]]:
    months = trading_months()
    out = {}
    for p, lines in group(LINES, lambda ln: ln.product).items():
        per_month = {m: measures(ls) for m, ls in group(lines, lambda ln: ln.month).items()}
        first = min(per_month)
        present = 0
        for listed, m in enumerate((m for m in months if m >= first), start=1):
            row = per_month.get(m)
            units = row["units_sold"] if row else Decimal(0)
            present += units > 0
            out[(p, m)] = {
                "first_month": first,
                "present": units > 0,
                "units_sold": units,
                "net_sales": row["net_sales"] if row else Decimal(0),
                "months_listed": listed,
                "months_present": present,
                "presence_pct": 100 * present / listed,
            }
    return out


def exp_new_vs_existing_items() -> dict[tuple[Any, ...], dict[str, Any]]:
    first = {p: min(ln.month for ln in ls) for p, ls in group(LINES, lambda ln: ln.product).items()}
    out = {}
    for m, lines in group(LINES, lambda ln: ln.month).items():
        per = {
            p: measures(ls)["net_sales"] for p, ls in group(lines, lambda ln: ln.product).items()
        }
        new = {p: v for p, v in per.items() if first[p] == m}
        old = {p: v for p, v in per.items() if first[p] != m}
        total = sum(per.values(), Decimal(0))
        out[(m,)] = {
            "new_products": len(new),
            "existing_products": len(old),
            "new_net_sales": sum(new.values(), Decimal(0)),
            "existing_net_sales": sum(old.values(), Decimal(0)),
            "net_sales": total,
            "new_share_pct": pct(sum(new.values(), Decimal(0)), total),
        }
    return out


def exp_rolling_revenue() -> dict[tuple[Any, ...], dict[str, Any]]:
    days = sorted({ln.day for ln in LINES})
    out = {}
    for day in days:
        window = [ln for ln in LINES if day - timedelta(days=27) <= ln.day <= day]
        for s, lines in group(window, lambda ln: ln.store).items():
            week = [ln for ln in lines if ln.day > day - timedelta(days=7)]
            out[(day, s)] = {
                "net_sales": sum((ln.revenue for ln in lines if ln.day == day), Decimal(0)),
                "net_sales_7d": sum((ln.revenue for ln in week), Decimal(0)),
                "net_sales_28d": sum((ln.revenue for ln in lines), Decimal(0)),
                "net_units_7d": sum((ln.qty for ln in week), Decimal(0)),
                "net_units_28d": sum((ln.qty for ln in lines), Decimal(0)),
                "days_with_sales_28d": len({ln.day for ln in lines}),
            }
    return out


def exp_customer_rfm() -> dict[tuple[Any, ...], dict[str, Any]]:
    as_of = max(ln.day for ln in LINES) + timedelta(days=1)
    stats = {}
    for c, lines in group([ln for ln in LINES if ln.customer], lambda ln: ln.customer).items():
        sales = [ln for ln in lines if ln.qty > 0]
        if not sales:
            continue
        last = max(ln.day for ln in sales)
        stats[c] = {
            "as_of_date": as_of,
            "last_purchase_date": last,
            "recency_days": (as_of - last).days,
            "frequency": len({ln.tid for ln in sales}),
            "monetary": sum((ln.revenue for ln in lines), Decimal(0)),
        }
    r = ntile5(sorted(stats, key=lambda c: (-stats[c]["recency_days"], c)))
    f = ntile5(sorted(stats, key=lambda c: (stats[c]["frequency"], c)))
    m = ntile5(sorted(stats, key=lambda c: (stats[c]["monetary"], c)))
    for c, row in stats.items():
        row.update(r_score=r[c], f_score=f[c], m_score=m[c], rfm_cell=f"{r[c]}{f[c]}{m[c]}")
    return {(c,): row for c, row in stats.items()}


def exp_cohort_retention() -> dict[tuple[Any, ...], dict[str, Any]]:
    customer_lines = group([ln for ln in LINES if ln.customer], lambda ln: ln.customer)
    cohort = {
        c: min(ln.month for ln in ls if ln.qty > 0)
        for c, ls in customer_lines.items()
        if any(ln.qty > 0 for ln in ls)
    }
    out = {}
    for cm in sorted(set(cohort.values())):
        members = [c for c, m in cohort.items() if m == cm]
        for am in (m for m in trading_months() if m >= cm):
            lines = [ln for c in members for ln in customer_lines[c] if ln.month == am]
            active = len({ln.customer for ln in lines if ln.qty > 0})
            out[(cm, am)] = {
                "months_since_first": (am.year - cm.year) * 12 + am.month - cm.month,
                "cohort_customers": len(members),
                "active_customers": active,
                "retention_pct": 100 * active / len(members),
                "net_sales": sum((ln.revenue for ln in lines), Decimal(0)),
            }
    return out


def exp_salesperson_monthly() -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    with_person = [ln for ln in LINES if ln.salesperson]
    for (m, s), lines in group(with_person, lambda ln: (ln.month, ln.store)).items():
        per = {e: measures(ls) for e, ls in group(lines, lambda ln: ln.salesperson).items()}
        values = sorted({r["net_sales"] for r in per.values()}, reverse=True)
        for e, row in per.items():
            dense = values.index(row["net_sales"]) + 1
            incentive = (
                (Decimal("0.01") * row["net_sales"]).quantize(CENT, ROUND_HALF_UP)
                if dense == 1
                else Decimal(0)
            )
            row.update(sales_rank=dense, incentive=incentive)
            out[(m, s, e)] = row
    return out


def exp_returns_summary() -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {}
    for (m, p), lines in group(LINES, lambda ln: (ln.month, ln.product)).items():
        row = measures(lines)
        out[(m, p)] = {
            "category": PRODUCTS[p][0],
            "gross_sales": row["gross_sales"],
            "returns_value": row["returns_value"],
            "net_sales": row["net_sales"],
            "units_sold": row["units_sold"],
            "units_returned": -sum((ln.qty for ln in lines if ln.qty < 0), Decimal(0)),
            "return_lines": sum(1 for ln in lines if ln.qty < 0),
            "return_rate_pct": pct(row["returns_value"], row["gross_sales"]),
        }
    return out


def exp_sales_hourly() -> dict[tuple[Any, ...], dict[str, Any]]:
    # One source in UTC: a day has a time of day unless every line sits at midnight.
    timed = {ln.day for ln in LINES if ln.at.time() != datetime.min.time()}
    out = {}
    for (day, store, hour), lines in group(
        LINES, lambda ln: (ln.day, ln.store, ln.at.hour if ln.day in timed else None)
    ).items():
        row = measures(lines)
        row["day_of_week"] = day.isoweekday()
        out[(day, store, hour)] = row
    return out


EXPECTED: dict[str, Callable[[], dict[tuple[Any, ...], dict[str, Any]]]] = {
    name.removeprefix("exp_"): fn for name, fn in globals().items() if name.startswith("exp_")
}


# ---------------------------------------------------------------- the warehouse side


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = Project(tmp_path_factory.mktemp("marts"))
    project.landing.mkdir(parents=True)
    project.write_config(BASIC_CONFIG)
    # Two files: the second arrives later, so the marts are built then refreshed.
    project.write_csv("a_jan.csv", ROWS[:7], header=COLUMNS)
    assert project.run()["files"][0]["status"] == "loaded"
    project.write_csv("b_rest.csv", ROWS[7:], header=COLUMNS)
    data = project.run()
    assert data["checks"]["status"] == "pass", data["checks"]
    return project.root / "warehouse.duckdb"


def table(path: Path, name: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    from salespipe.marts import get_mart

    mart = get_mart(name)
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(f"SELECT * FROM {name}")
        names = [c[0] for c in cursor.description or []]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {tuple(r[g] for g in mart.grain): r for r in rows}


def same(actual: Any, wanted: Any) -> bool:
    if wanted is None or actual is None:
        return actual is wanted
    if isinstance(wanted, float) or isinstance(actual, float):
        return math.isclose(float(actual), float(wanted), rel_tol=1e-9, abs_tol=1e-9)
    return bool(actual == wanted)


# Attributes copied from dimensions; every other column must be modelled above.
ATTRIBUTES = {
    "product_name",
    "store_name",
    "customer_name",
    "salesperson_name",
    "city",
    "region",
    "category",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mart_equals_independent_model(warehouse: Path, name: str) -> None:
    from salespipe.marts import get_mart

    got = table(warehouse, name)
    want = expected(name)
    assert set(got) == set(want), f"{name}: different rows"
    columns = set(get_mart(name).column_names)
    modelled = set(next(iter(want.values())))
    assert columns - modelled - set(get_mart(name).grain) <= ATTRIBUTES, "unmodelled columns"
    for key, row in want.items():
        for column in sorted(modelled & columns):
            value = row[column]
            assert same(got[key][column], value), (
                f"{name} {key} {column}: {got[key][column]!r} != {value!r}"
            )


def test_every_public_mart_is_modelled() -> None:
    from salespipe.marts import MART_NAMES

    assert sorted(EXPECTED) == sorted(MART_NAMES)


def test_incentive_tie_pays_both_rank_one_salespeople(warehouse: Path) -> None:
    rows = table(warehouse, "salesperson_monthly")
    jan = {k[2]: v for k, v in rows.items() if k[:2] == (date(2025, 1, 1), "S1")}
    assert jan["E1"]["net_sales"] == jan["E2"]["net_sales"] == Decimal("20.50")
    assert jan["E1"]["sales_rank"] == jan["E2"]["sales_rank"] == 1
    assert jan["E3"]["sales_rank"] == 2  # dense: no gap after the tie
    # round(0.01 * 20.50, 2) = round(0.205, 2) = 0.21, half away from zero
    assert jan["E1"]["incentive"] == jan["E2"]["incentive"] == Decimal("0.21")
    assert jan["E3"]["incentive"] == 0


def test_mom_pct_is_null_after_a_month_without_sales(warehouse: Path) -> None:
    rows = table(warehouse, "sales_monthly")
    assert (date(2025, 3, 1),) not in rows
    april = rows[(date(2025, 4, 1),)]
    assert april["previous_net_sales"] is None and april["mom_pct"] is None
    feb, jan = rows[(date(2025, 2, 1),)], rows[(date(2025, 1, 1),)]
    assert feb["previous_net_sales"] == jan["net_sales"]
    assert math.isclose(
        feb["mom_pct"], float(100 * (feb["net_sales"] - jan["net_sales"]) / jan["net_sales"])
    )


def test_a_return_counts_in_its_own_later_month(warehouse: Path) -> None:
    returns = table(warehouse, "returns_summary")
    assert returns[(date(2025, 1, 1), "P1")]["returns_value"] == 0
    feb = returns[(date(2025, 2, 1), "P1")]
    assert feb["returns_value"] == Decimal("10.25") and feb["gross_sales"] == 0
    assert feb["return_rate_pct"] is None  # no sale of P1 in February
    monthly = table(warehouse, "sales_monthly")
    assert monthly[(date(2025, 2, 1),)]["returns_value"] == Decimal("10.25") + Decimal("99.99")


def test_rfm_ties_are_broken_by_customer_id(warehouse: Path) -> None:
    rows = table(warehouse, "customer_rfm")
    c3, c4 = rows[("C3",)], rows[("C4",)]
    assert (c3["recency_days"], c3["frequency"]) == (c4["recency_days"], c4["frequency"])
    assert c3["r_score"] < c4["r_score"]  # same recency: C3 first in DESC order, lower tile
    assert ("C9",) not in rows  # only a return: no purchase
    assert {r["as_of_date"] for r in rows.values()} == {date(2025, 4, 9)}
    assert rows[("C2",)]["recency_days"] == 1  # bought on the last day


def test_a_day_of_midnights_has_no_hour_but_a_midnight_sale_among_others_does(
    warehouse: Path,
) -> None:
    hourly = table(warehouse, "sales_hourly")
    # 31 January: one line, at midnight: a date alone, not an invented hour 0.
    assert [k[2] for k in hourly if k[:2] == (date(2025, 1, 31), "S3")] == [None]
    # 1 April: a sale at 00:00 beside one at 12:00 is a real hour 0.
    april = {k[2]: v for k, v in hourly.items() if k[:2] == (date(2025, 4, 1), "S1")}
    assert sorted(april) == [0, 12] and april[0]["net_sales"] == Decimal("10.25")
    # the hours of a day add up to it
    daily = table(warehouse, "sales_daily")
    for (day, store), row in daily.items():
        hours = [v for k, v in hourly.items() if k[:2] == (day, store)]
        assert sum(h["net_sales"] for h in hours) == row["net_sales"]
        assert sum(h["lines"] for h in hours) == row["lines"]


def test_cost_is_null_when_a_line_lacks_unit_cost(warehouse: Path) -> None:
    daily = table(warehouse, "sales_daily")
    assert daily[(date(2025, 1, 10), "S2")]["cost"] is None
    assert daily[(date(2025, 1, 10), "S2")]["margin_pct"] is None
    assert daily[(date(2025, 1, 20), "S2")]["cost"] == Decimal("12.50")
