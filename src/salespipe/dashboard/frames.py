# mypy: disable-error-code="import-untyped"
"""Reshape mart rows from the API for charts: totals across stores or months, rankings,
pivots. Pure pandas over exact values (Decimal stays Decimal); nothing here reads data.

Sums follow the marts' rules: a cost (or profit, margin) is null when any part is null,
never a partial sum.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS = tuple(range(24))
SALES_SUMS = ("net_sales", "gross_sales", "returns_value", "orders", "units_sold", "net_units")
HUNDRED = Decimal(100)


def _sum(series: pd.Series) -> Any:
    values = [v for v in series if v is not None and not pd.isna(v)]
    if not values:
        return None
    total = values[0]
    for v in values[1:]:
        total += v
    return total


def _strict_sum(series: pd.Series) -> Any:
    """Null when any value is null (cost of lines without unit_cost is unknown)."""
    if any(v is None or pd.isna(v) for v in series):
        return None
    return _sum(series)


def totals(df: pd.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Sum `columns` (those present) per `by`; cost-like columns strictly."""
    present = [c for c in columns if c in df.columns]
    if df.empty:
        return pd.DataFrame(columns=[*by, *present])
    grouped = df.groupby(list(by), sort=True, dropna=False)
    out = grouped[present].sum(min_count=1)
    for column in present:
        if column in ("cost", "profit"):
            unknown = df[column].isna().groupby([df[k] for k in by], dropna=False).any()
            out[column] = out[column].astype(object).where(~unknown.reindex(out.index), None)
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out.reset_index()


def exact(value: Any) -> Decimal:
    """A Decimal of an exact value, a Python or numpy integer, or a float's shortest text."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    return Decimal(str(value))


def ratio(numerator: Any, denominator: Any, scale: Decimal = Decimal(1)) -> Decimal | None:
    """scale * numerator / denominator to 2 places; None when either is unknown or 0 divides."""
    if numerator is None or denominator is None or pd.isna(numerator) or pd.isna(denominator):
        return None
    if denominator == 0:
        return None
    return (scale * exact(numerator) / exact(denominator)).quantize(Decimal("0.01"))


def with_margin(df: pd.DataFrame) -> pd.DataFrame:
    """Recompute profit and margin_pct from summed net_sales and cost."""
    out = df.copy()
    if "cost" in out.columns:
        out["profit"] = [
            None if c is None or pd.isna(c) else n - c
            for n, c in zip(out["net_sales"], out["cost"], strict=True)
        ]
        out["margin_pct"] = [
            ratio(p, n, HUNDRED) for p, n in zip(out["profit"], out["net_sales"], strict=True)
        ]
    return out


def daily_totals(sales_daily: pd.DataFrame) -> pd.DataFrame:
    """sales_daily summed across the selected stores, one row per business day."""
    return totals(sales_daily, ["sale_date"], SALES_SUMS)


def rolling_totals(rolling: pd.DataFrame) -> pd.DataFrame:
    """rolling_revenue summed across stores: 7- and 28-day averages per calendar day."""
    cols = ("net_sales", "net_sales_7d", "net_sales_28d", "net_units_7d", "net_units_28d")
    out = totals(rolling, ["sale_date"], cols)
    if out.empty:
        return out.assign(avg_7d=[], avg_28d=[], units_avg_7d=[], units_avg_28d=[])
    out["avg_7d"] = [ratio(v, 7) for v in out["net_sales_7d"]]
    out["avg_28d"] = [ratio(v, 28) for v in out["net_sales_28d"]]
    out["units_avg_7d"] = [ratio(v, 7) for v in out["net_units_7d"]]
    out["units_avg_28d"] = [ratio(v, 28) for v in out["net_units_28d"]]
    return out


def weekday_profile(daily: pd.DataFrame) -> pd.DataFrame:
    """Average net sales and units per weekday over the days with sales."""
    rows = []
    if not daily.empty:
        weekdays = pd.to_datetime(daily["sale_date"]).dt.day_of_week
        for i, name in enumerate(WEEKDAYS):
            part = daily[weekdays == i]
            days = len(part)
            rows.append(
                {
                    "weekday": name,
                    "days": days,
                    "average_net_sales": ratio(_sum(part["net_sales"]), days) if days else None,
                    "average_net_units": ratio(_sum(part["net_units"]), days) if days else None,
                }
            )
    return pd.DataFrame(rows, columns=["weekday", "days", "average_net_sales", "average_net_units"])


def _timed(hourly: pd.DataFrame) -> pd.DataFrame:
    """sales_hourly rows with an hour (rows without one come from dates alone)."""
    return hourly[hourly["hour"].notna()] if not hourly.empty else hourly


def _hour_sums(rows: pd.DataFrame, column: str) -> dict[int, Any]:
    if rows.empty:
        return {}
    return {int(h): _sum(part[column]) for h, part in rows.groupby("hour", sort=False)}


def undated_net_sales(hourly: pd.DataFrame) -> tuple[Decimal, Decimal]:
    """Net sales without an hour (sources of dates alone) and all net sales of the rows."""
    if hourly.empty:
        return Decimal(0), Decimal(0)
    untimed = hourly[hourly["hour"].isna()]
    return _sum(untimed["net_sales"]) or Decimal(0), _sum(hourly["net_sales"]) or Decimal(0)


def hour_profile(hourly: pd.DataFrame) -> pd.DataFrame:
    """Net sales and units per hour of the day (0..23, none missing), summed over the rows
    with an hour: totals, share of net sales, and averages per day with a time of day."""
    cols = [
        "hour",
        "days",
        "net_sales",
        "net_units",
        "share_pct",
        "average_net_sales",
        "average_net_units",
    ]
    timed = _timed(hourly)
    if timed.empty:
        return pd.DataFrame(columns=cols)
    days = int(timed["sale_date"].nunique())
    net = _hour_sums(timed, "net_sales")
    units = _hour_sums(timed, "net_units")
    grand = _sum(timed["net_sales"]) or Decimal(0)
    rows = []
    for hour in HOURS:
        n, u = net.get(hour, Decimal("0.00")), units.get(hour, Decimal(0))
        rows.append(
            {
                "hour": hour,
                "days": days,
                "net_sales": n,
                "net_units": u,
                "share_pct": ratio(n, grand, HUNDRED),
                "average_net_sales": ratio(n, days),
                "average_net_units": ratio(u, days),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def weekday_hour_matrix(hourly: pd.DataFrame, column: str) -> pd.DataFrame:
    """Average of `column` per day, by weekday (rows, Monday first) and hour (columns
    "00".."23"); None for a weekday without a day with a time of day."""
    timed = _timed(hourly)
    labels = [f"{h:02d}" for h in HOURS]
    out = pd.DataFrame(index=pd.Index(WEEKDAYS, name="weekday"), columns=labels, dtype=object)
    if timed.empty:
        return out
    weekdays = pd.to_datetime(timed["sale_date"]).dt.day_of_week
    for i, name in enumerate(WEEKDAYS):
        part = timed[weekdays == i]
        days = int(part["sale_date"].nunique())
        sums = _hour_sums(part, column)
        for hour, label in zip(HOURS, labels, strict=True):
            out.loc[name, label] = ratio(sums.get(hour, 0), days) if days else None
    return out


def product_totals(top_products: pd.DataFrame) -> pd.DataFrame:
    """top_products summed over the months of the period, one row per product."""
    if top_products.empty:
        return pd.DataFrame(
            columns=["product_id", "product_name", "category", *SALES_SUMS, "cost", "profit"]
        )
    latest = top_products.drop_duplicates("product_id", keep="last").set_index("product_id")
    out = totals(top_products, ["product_id"], (*SALES_SUMS, "cost"))
    out.insert(1, "product_name", out["product_id"].map(latest["product_name"]))
    out.insert(2, "category", out["product_id"].map(latest["category"]))
    return with_margin(out)


def top_n(products: pd.DataFrame, by: str, n: int) -> pd.DataFrame:
    """The n first products by `by` (ties by product_id), ranked from 1."""
    if products.empty:
        return products.assign(rank=[])
    ordered = products.assign(_key=products[by].astype(float)).sort_values(
        ["_key", "product_id"], ascending=[False, True]
    )
    out = ordered.drop(columns="_key").head(n).reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def category_totals(matrix: pd.DataFrame) -> pd.DataFrame:
    """store_category_matrix summed per category over stores and months."""
    out = totals(matrix, ["category"], (*SALES_SUMS, "cost"))
    if not out.empty:
        out = with_margin(out)
        out = out.assign(_k=out["net_sales"].astype(float)).sort_values("_k", ascending=False)
        out = out.drop(columns="_k").reset_index(drop=True)
    return out


def abc_summary(abc: pd.DataFrame) -> pd.DataFrame:
    """Products and net sales per ABC class."""
    cols = ["abc_class", "products", "net_sales", "share_pct"]
    if abc.empty:
        return pd.DataFrame(columns=cols)
    grand = _sum(abc["net_sales"]) or Decimal(0)
    rows = []
    for cls in sorted(c for c in abc["abc_class"].dropna().unique()):
        part = abc[abc["abc_class"] == cls]
        net = _sum(part["net_sales"]) or Decimal(0)
        rows.append(
            {
                "abc_class": cls,
                "products": len(part),
                "net_sales": net,
                "share_pct": ratio(net, grand, HUNDRED),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def price_points(price_quantity: pd.DataFrame) -> pd.DataFrame:
    """price_quantity summed over months: units and revenue per product and listed price."""
    return totals(
        price_quantity,
        ["product_id", "unit_price"],
        ("lines", "units_sold", "units_returned", "gross_sales", "discount_value"),
    )


def consistency_matrix(item_consistency: pd.DataFrame, products: Sequence[str]) -> pd.DataFrame:
    """Units sold per product (rows, in the given order) and month (columns); NaN = absent."""
    part = item_consistency[item_consistency["product_id"].isin(list(products))]
    if part.empty:
        return pd.DataFrame()
    values = part.assign(
        units=[
            float(u) if p else float("nan")
            for u, p in zip(part["units_sold"], part["present"], strict=True)
        ]
    )
    pivot = values.pivot_table(
        index="product_id", columns="month", values="units", aggfunc="sum", dropna=False
    )
    order = [p for p in products if p in pivot.index]
    return pivot.reindex(order)


def store_totals(sales_by_store: pd.DataFrame) -> pd.DataFrame:
    """sales_by_store summed over months: one row per store with its region and city."""
    cols = [
        "region",
        "city",
        "store_id",
        "store_name",
        *SALES_SUMS,
        "lines",
        "active_days",
        "cost",
        "profit",
        "margin_pct",
        "average_order_value",
        "return_rate_pct",
    ]
    if sales_by_store.empty:
        return pd.DataFrame(columns=cols)
    latest = sales_by_store.sort_values("month").drop_duplicates("store_id", keep="last")
    latest = latest.set_index("store_id")
    out = totals(sales_by_store, ["store_id"], (*SALES_SUMS, "lines", "active_days", "cost"))
    for name in ("region", "city", "store_name"):
        out[name] = out["store_id"].map(latest[name])
    out = with_margin(out)
    out["average_order_value"] = [
        ratio(g, o) for g, o in zip(out["gross_sales"], out["orders"], strict=True)
    ]
    out["return_rate_pct"] = [
        ratio(r, g, HUNDRED) for r, g in zip(out["returns_value"], out["gross_sales"], strict=True)
    ]
    return out[[c for c in cols if c in out.columns]]


def drill_level(
    stores: pd.DataFrame, region: str | None, city: str | None
) -> tuple[str, pd.DataFrame]:
    """The next level below the selection (region -> city -> store), with its totals."""
    part = stores
    if region:
        part = part[part["region"] == region]
    if city:
        part = part[part["city"] == city]
    level = "store_id" if city else ("city" if region else "region")
    keep = [level] + (["store_name"] if level == "store_id" else [])
    out = totals(part, keep, (*SALES_SUMS, "cost"))
    if not out.empty:
        out = with_margin(out)
        out = out.assign(_k=out["net_sales"].astype(float)).sort_values("_k", ascending=False)
        out = out.drop(columns="_k").reset_index(drop=True)
    return level, out


RADAR_METRICS: dict[str, str] = {
    "net_sales": "Net sales",
    "orders": "Orders",
    "average_order_value": "Avg order value",
    "units_sold": "Units sold",
    "margin_pct": "Margin %",
    "active_days": "Active days",
}


def store_profiles(stores: pd.DataFrame, store_ids: Sequence[str]) -> pd.DataFrame:
    """Each metric as a share of the best store's value (1 = best), for radar charts."""
    rows = []
    chosen = stores[stores["store_id"].isin(list(store_ids))]
    for metric, label in RADAR_METRICS.items():
        if metric not in stores.columns:
            continue
        values = [float(v) for v in stores[metric] if v is not None and not pd.isna(v)]
        best = max(values) if values else 0.0
        for _, row in chosen.iterrows():
            value = row[metric]
            known = value is not None and not pd.isna(value)
            rows.append(
                {
                    "store_id": row["store_id"],
                    "store_name": row.get("store_name"),
                    "metric": label,
                    "value": value if known else None,
                    "relative": (float(value) / best) if known and best > 0 else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=["store_id", "store_name", "metric", "value", "relative"])


# RFM segments by recency and frequency scores (1..5, 5 best), the usual retail grid.
SEGMENTS: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("Champions", (5, 5), (4, 5)),
    ("Loyal customers", (3, 5), (4, 5)),
    ("Potential loyalists", (4, 5), (2, 3)),
    ("New customers", (5, 5), (1, 1)),
    ("Promising", (4, 4), (1, 1)),
    ("Need attention", (3, 3), (3, 3)),
    ("About to sleep", (3, 3), (1, 2)),
    ("Cannot lose them", (1, 1), (4, 5)),
    ("At risk", (1, 2), (3, 5)),
    ("Hibernating", (1, 2), (1, 2)),
)


def rfm_segment(r: int, f: int) -> str:
    for name, (r_lo, r_hi), (f_lo, f_hi) in SEGMENTS:
        if r_lo <= r <= r_hi and f_lo <= f <= f_hi:
            return name
    return "Others"


def rfm_segments(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers with a segment name, and the summary per segment."""
    cols = ["segment", "customers", "share_pct", "monetary", "avg_recency_days", "avg_frequency"]
    if rfm.empty:
        return pd.DataFrame(columns=cols)
    seg = [rfm_segment(int(r), int(f)) for r, f in zip(rfm["r_score"], rfm["f_score"], strict=True)]
    tagged = rfm.assign(segment=seg)
    rows = []
    total = len(tagged)
    for name in [s[0] for s in SEGMENTS] + ["Others"]:
        part = tagged[tagged["segment"] == name]
        if part.empty:
            continue
        n = len(part)
        rows.append(
            {
                "segment": name,
                "customers": n,
                "share_pct": ratio(n, total, HUNDRED),
                "monetary": _sum(part["monetary"]),
                "avg_recency_days": ratio(int(part["recency_days"].sum()), n),
                "avg_frequency": ratio(int(part["frequency"].sum()), n),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def cohort_matrix(cohorts: pd.DataFrame) -> pd.DataFrame:
    """retention_pct per cohort month (rows) and months since first purchase (columns)."""
    if cohorts.empty:
        return pd.DataFrame()
    values = cohorts.assign(retention=cohorts["retention_pct"].astype(float))
    return values.pivot_table(
        index="cohort_month", columns="months_since_first", values="retention", aggfunc="sum"
    ).sort_index()


def ranking(salesperson_monthly: pd.DataFrame, month: Any) -> pd.DataFrame:
    """One month's ranking per store: rank 1 first, ties by salesperson_id."""
    part = salesperson_monthly[salesperson_monthly["month"] == month]
    cols = ["store_id", "sales_rank", "salesperson_id", "salesperson_name", "net_sales"]
    cols += ["orders", "incentive"]
    return part.sort_values(["store_id", "sales_rank", "salesperson_id"])[cols].reset_index(
        drop=True
    )


def incentives(salesperson_monthly: pd.DataFrame) -> pd.DataFrame:
    """Every rank-1 salesperson per store and month, with the incentive earned."""
    part = salesperson_monthly[salesperson_monthly["sales_rank"] == 1]
    cols = ["month", "store_id", "salesperson_id", "salesperson_name", "net_sales", "incentive"]
    return part.sort_values(["month", "store_id", "salesperson_id"])[cols].reset_index(drop=True)


def stage_timings(runs: list[dict[str, Any]], files: list[dict[str, Any]]) -> pd.DataFrame:
    """Seconds per run and stage: the API's `stages` when it sends them, else loading
    (the sum of the run's files) and the rest of the run (marts, checks, archiving)."""
    load: dict[str, float] = {}
    for f in files:
        if f.get("run_id") and f.get("seconds") is not None:
            load[f["run_id"]] = load.get(f["run_id"], 0.0) + float(f["seconds"])
    rows = []
    for run in runs:
        total = float(run["seconds"]) if run.get("seconds") is not None else None
        stages = run.get("stages")
        if isinstance(stages, dict) and stages:
            parts = {str(k): float(v) for k, v in stages.items() if v is not None}
        else:
            loading = load.get(run["run_id"], 0.0)
            parts = {"load files": loading}
            if total is not None:
                parts["marts, checks, other"] = max(total - loading, 0.0)
        for stage, seconds in parts.items():
            rows.append(
                {
                    "run_id": run["run_id"],
                    "started_at": run.get("started_at"),
                    "stage": stage,
                    "seconds": round(seconds, 3),
                }
            )
    return pd.DataFrame(rows, columns=["run_id", "started_at", "stage", "seconds"])


def reason_totals(files: list[dict[str, Any]]) -> pd.DataFrame:
    """Quarantined rows per reason code, over every file of the ledger."""
    counts: dict[str, int] = {}
    for f in files:
        for code, rows in (f.get("reasons") or {}).items():
            counts[code] = counts.get(code, 0) + int(rows)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.DataFrame(ordered, columns=["reason", "rows"])
