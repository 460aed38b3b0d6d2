# mypy: disable-error-code="import-untyped"
"""Plotly figures of the pages, built from the frames of `frames.py`.

Plotly draws floats: exact values are converted here, for drawing only; tables and
exports keep the exact numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from salespipe.dashboard.formatting import nice_ticks

ACCENT = "#1f77b4"
SECOND = "#ff7f0e"
THIRD = "#2ca02c"
ABC_COLORS = {"A": "#2ca02c", "B": "#ffbf00", "C": "#d62728"}


def _label(value: Any) -> str:
    """Months read as `Mar 2025`; anything else as its text."""
    if isinstance(value, date) and value.day == 1:
        return value.strftime("%b %Y")
    return str(value)


def _floats(series: pd.Series) -> list[float | None]:
    return [None if v is None or pd.isna(v) else float(v) for v in series]


def layout(fig: go.Figure, title: str | None = None, height: int = 360) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        title={"text": title} if title else None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
    )
    return fig


def trend(
    df: pd.DataFrame,
    x: str,
    y: str,
    label: str,
    *,
    averages: Sequence[tuple[str, str]] = (),
    bars: bool = True,
    title: str | None = None,
    monthly: bool = False,
) -> go.Figure:
    """A daily or monthly series as bars (or a line), with optional average lines.

    Monthly values (dated the 1st) span their month on a month axis: on a date axis they
    would be drawn as one day, centred on the 1st, under daily ticks."""
    fig = go.Figure()
    if bars:
        fig.add_bar(x=list(df[x]), y=_floats(df[y]), name=label, marker_color=ACCENT, opacity=0.55)
        if monthly:
            month_bars(fig, list(df[x]))
    else:
        fig.add_scatter(
            x=list(df[x]), y=_floats(df[y]), name=label, mode="lines", line_color=ACCENT
        )
    colors = (SECOND, THIRD)
    for i, (column, name) in enumerate(averages):
        fig.add_scatter(
            x=list(df[x]),
            y=_floats(df[column]),
            name=name,
            mode="lines",
            line={"color": colors[i % 2], "width": 2.5},
        )
    fig.update_yaxes(title_text=label)
    if monthly:
        month_axis(fig, list(df[x]))
    return layout(fig, title)


MONTH0 = "2000-01-01"


def month_bars(fig: go.Figure, months: Sequence[Any]) -> None:
    """Each point in the middle of its month; bars 80 % of their month wide (a lone bar
    would otherwise be drawn a millisecond wide)."""
    fig.update_traces(xperiod="M1", xperiod0=MONTH0, xperiodalignment="middle")
    days = [pd.Timestamp(m).days_in_month for m in months]
    fig.update_traces(width=[0.8 * d * 86_400_000 for d in days], selector={"type": "bar"})


def month_axis(fig: go.Figure, months: Sequence[Any]) -> None:
    """A tick and a label per month (`Mar 2025`), the label under the month's bar; the
    range spans whole months, so that even a single month has its label."""
    days = [pd.Timestamp(m) for m in months if m is not None and not pd.isna(m)]
    bounds = (
        [
            min(days).strftime("%Y-%m-01"),
            (max(days) + pd.offsets.MonthBegin(1)).strftime("%Y-%m-01"),
        ]
        if days
        else None
    )
    fig.update_xaxes(
        type="date",
        dtick="M1",
        tick0=MONTH0,
        tickformat="%b %Y",
        ticklabelmode="period",
        range=bounds,
    )


def percent_axis(values: Sequence[float | None]) -> dict[str, Any]:
    """A secondary % axis with its own round ticks that shows every point.

    Plotly syncs an overlaying axis's ticks to the primary's grid by default, which gives
    ticks such as 16.9/33.8 and may leave a point above the top tick."""
    known = [v for v in values if v is not None]
    low, high = (min(0.0, *known), max(0.0, *known)) if known else (0.0, 100.0)
    ticks = nice_ticks(low, high, 5)
    pad = (ticks[-1] - ticks[0]) * 0.04
    return {
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [f"{t:g}%" for t in ticks],
        "range": [ticks[0] - pad, ticks[-1] + pad],
        "showgrid": False,
        "zeroline": True,
    }


def monthly_with_change(df: pd.DataFrame, y: str, label: str, change: str | None) -> go.Figure:
    """Monthly bars, and the month-over-month change in % on a second axis."""
    fig = go.Figure()
    fig.add_bar(x=list(df["month"]), y=_floats(df[y]), name=label, marker_color=ACCENT)
    if change and change in df.columns:
        changes = _floats(df[change])
        fig.add_scatter(
            x=list(df["month"]),
            y=changes,
            name="MoM %",
            mode="lines+markers",
            yaxis="y2",
            line_color=SECOND,
            hovertemplate="%{y:+.2f}%",
        )
        fig.update_layout(
            yaxis2={"overlaying": "y", "side": "right", "title": "MoM %", **percent_axis(changes)}
        )
    month_bars(fig, list(df["month"]))
    fig.update_yaxes(title_text=label, selector={"anchor": "x"})
    month_axis(fig, list(df["month"]))
    return layout(fig)


def hbar(df: pd.DataFrame, label_col: str, value_col: str, value_label: str) -> go.Figure:
    """Horizontal bars, largest on top."""
    labels = [str(v) for v in df[label_col]]
    fig = go.Figure(
        go.Bar(
            x=_floats(df[value_col]),
            y=labels,
            orientation="h",
            marker_color=ACCENT,
            hovertemplate="%{y}: %{x:,.2f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text=value_label)
    fig.update_layout(hovermode="closest")
    return layout(fig, height=max(260, 26 * len(labels) + 60))


def bars(df: pd.DataFrame, x: str, y: str, label: str, *, color: str = ACCENT) -> go.Figure:
    fig = go.Figure(go.Bar(x=[_label(v) for v in df[x]], y=_floats(df[y]), marker_color=color))
    fig.update_yaxes(title_text=label)
    fig.update_xaxes(type="category")
    fig.update_layout(hovermode="closest")
    return layout(fig)


def pareto(abc: pd.DataFrame) -> go.Figure:
    """Net sales per product in Pareto order, coloured by class, and the cumulative share."""
    ordered = abc.sort_values("pareto_rank")
    fig = go.Figure()
    for cls, color in ABC_COLORS.items():
        part = ordered[ordered["abc_class"] == cls]
        fig.add_bar(
            x=list(part["pareto_rank"].astype(int)),
            y=_floats(part["net_sales"]),
            name=f"class {cls}",
            marker_color=color,
            customdata=list(part["product_id"]),
            hovertemplate="#%{x} %{customdata}: %{y:,.2f}<extra></extra>",
        )
    fig.add_scatter(
        x=list(ordered["pareto_rank"].astype(int)),
        y=_floats(ordered["cumulative_share_pct"]),
        name="cumulative share %",
        yaxis="y2",
        mode="lines",
        line_color="#444",
    )
    fig.update_layout(
        yaxis={"title": "net sales"},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "title": "cumulative %",
            "range": [0, 105],  # the share ends at 100 %: a little room above it
            "tickmode": "linear",
            "tick0": 0,
            "dtick": 20,
            "ticksuffix": "%",
            "showgrid": False,
        },
        xaxis={"title": "products, by net sales"},
        bargap=0,
        hovermode="closest",
    )
    return layout(fig)


def scatter_prices(points: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        go.Scattergl(
            x=_floats(points["unit_price"]),
            y=_floats(points["units_sold"]),
            mode="markers",
            marker={"color": ACCENT, "opacity": 0.5, "size": 6},
            customdata=list(points["product_id"]),
            hovertemplate="%{customdata}<br>price %{x:,.2f}<br>units %{y:,}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="listed unit price", type="log", dtick=1)
    fig.update_yaxes(title_text="units sold", type="log", dtick=1)
    fig.update_layout(hovermode="closest")
    return layout(fig)


def heatmap(
    matrix: pd.DataFrame, *, x_label: str, y_label: str, value_label: str, scale: str = "Blues"
) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(dtype=float),
            x=[_label(c) for c in matrix.columns],
            y=[_label(i) for i in matrix.index],
            colorscale=scale,
            colorbar={"title": value_label},
            hoverongaps=False,
            hovertemplate=f"{y_label} %{{y}}<br>{x_label} %{{x}}<br>{value_label} %{{z:,.2f}}"
            "<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category", title_text=y_label)
    fig.update_xaxes(type="category", title_text=x_label)
    fig.update_layout(hovermode="closest")
    return layout(fig, height=max(300, 18 * len(matrix.index) + 120))


def stacked_new_existing(df: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=list(df["month"]), y=_floats(df["existing_net_sales"]), name="existing products")
    fig.add_bar(x=list(df["month"]), y=_floats(df["new_net_sales"]), name="new products")
    fig.update_layout(barmode="stack")
    month_bars(fig, list(df["month"]))
    month_axis(fig, list(df["month"]))
    fig.update_yaxes(title_text="net sales")
    return layout(fig)


def sunburst(stores: pd.DataFrame) -> go.Figure:
    """Region -> city -> store, sized by net sales; click a sector to drill down."""
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    for region, by_region in stores.groupby("region", dropna=False):
        rid = f"r:{region}"
        ids.append(rid)
        labels.append(str(region))
        parents.append("")
        values.append(sum(float(v) for v in by_region["net_sales"]))
        for city, by_city in by_region.groupby("city", dropna=False):
            cid = f"{rid}/c:{city}"
            ids.append(cid)
            labels.append(str(city))
            parents.append(rid)
            values.append(sum(float(v) for v in by_city["net_sales"]))
            for _, row in by_city.iterrows():
                ids.append(f"{cid}/s:{row['store_id']}")
                labels.append(str(row.get("store_name") or row["store_id"]))
                parents.append(cid)
                values.append(float(row["net_sales"]))
    fig = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            hovertemplate="%{label}: %{value:,.2f}<extra></extra>",
        )
    )
    return layout(fig, height=420)


def treemap(matrix: pd.DataFrame, store_names: dict[str, str]) -> go.Figure:
    """Store x category, sized by net sales (only positive cells can be drawn)."""
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    positive = matrix[[float(v) > 0 for v in matrix["net_sales"]]]
    for store, part in positive.groupby("store_id"):
        sid = f"s:{store}"
        ids.append(sid)
        labels.append(store_names.get(str(store), str(store)))
        parents.append("")
        values.append(sum(float(v) for v in part["net_sales"]))
        for _, row in part.iterrows():
            ids.append(f"{sid}/{row['category']}")
            labels.append(str(row["category"]))
            parents.append(sid)
            values.append(float(row["net_sales"]))
    fig = go.Figure(
        go.Treemap(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            hovertemplate="%{label}: %{value:,.2f}<extra></extra>",
        )
    )
    return layout(fig, height=460)


def radar(profiles: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for store, part in profiles.groupby("store_id", sort=False):
        name = part["store_name"].iloc[0] or store
        theta = list(part["metric"])
        r = [float(v) for v in part["relative"]]
        fig.add_trace(
            go.Scatterpolar(
                r=[*r, r[0]],
                theta=[*theta, theta[0]],
                name=str(name),
                fill="toself",
                opacity=0.6,
                customdata=[*part["value"], part["value"].iloc[0]],
                hovertemplate="%{theta}: %{customdata}<extra>" + str(name) + "</extra>",
            )
        )
    fig.update_layout(polar={"radialaxis": {"range": [0, 1], "tickformat": ".0%"}})
    fig.update_layout(hovermode="closest")
    return layout(fig, height=440)


def variance(stores: pd.DataFrame) -> go.Figure:
    """Mean monthly net sales per store with one standard deviation either side."""
    names = [str(n or s) for n, s in zip(stores["store_name"], stores["store_id"], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=_floats(stores["mean_monthly_net_sales"]),
            error_y={"type": "data", "array": _floats(stores["stddev_monthly_net_sales"])},
            marker_color=ACCENT,
            customdata=_floats(stores["cv_pct"]),
            hovertemplate="%{x}<br>mean %{y:,.2f}<br>CV %{customdata:.2f}%<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="mean monthly net sales")
    fig.update_layout(hovermode="closest")
    return layout(fig)


def grouped_bars(df: pd.DataFrame, x: str, series: Sequence[tuple[str, str]]) -> go.Figure:
    fig = go.Figure()
    for column, name in series:
        fig.add_bar(x=[str(v) for v in df[x]], y=_floats(df[column]), name=name)
    fig.update_layout(barmode="group", hovermode="closest")
    return layout(fig)


def stage_bars(timings: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for stage, part in timings.groupby("stage", sort=False):
        fig.add_bar(x=list(part["run_id"]), y=list(part["seconds"]), name=str(stage))
    fig.update_layout(barmode="stack", hovermode="closest")
    fig.update_yaxes(title_text="seconds")
    fig.update_xaxes(type="category")
    return layout(fig)


def figure_config() -> dict[str, Any]:
    return {"displaylogo": False, "responsive": True}
