# mypy: disable-error-code="import-untyped"
"""Data health: runs with their stage timings, files with their reconciliation,
quarantined rows with their reasons, monitor alerts, and the state of every mart."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from salespipe.dashboard import charts, frames
from salespipe.dashboard.context import PageContext, current_context
from salespipe.dashboard.ui import chart, data_tables, guarded, show_table

RUNS, FILES, QUARANTINE, ALERTS = 50, 500, 500, 200


def runs(ctx: PageContext) -> None:
    data = ctx.source.ledger("runs", RUNS)
    files = ctx.source.ledger("files", FILES)["files"]
    running = data.get("running_job")
    if running:
        st.info(f"A run is in progress (job {running['job_id']}, since {running['submitted_at']}).")
    if not data["runs"]:
        st.info("No run yet: `salespipe run` loads the landed files.")
        return
    timings = frames.stage_timings(data["runs"], files)
    if not timings.empty:
        chart(charts.stage_bars(timings))
    show_table(ctx, "Runs", pd.DataFrame(data["runs"]), "/api/v1/runs")
    data_tables(
        ctx, [("Stage timings", timings, "/api/v1/runs, /api/v1/files")], label="Stage timings"
    )


def files(ctx: PageContext) -> None:
    rows = ctx.source.ledger("files", FILES)["files"]
    if not rows:
        st.info("No file has been loaded yet.")
        return
    frame = pd.DataFrame(rows)
    bad = frame[~frame["reconciles"].astype(bool)]
    if bad.empty:
        st.success(
            f"All {len(frame)} files reconcile: rows_in = loaded + updated + quarantined + "
            "duplicate.",
            icon=":material/check_circle:",
        )
    else:
        st.error(f"{len(bad)} file(s) do not reconcile.", icon=":material/error:")
    keep = [
        "file_id",
        "name",
        "source",
        "status",
        "rows_in",
        "rows_loaded",
        "rows_updated",
        "rows_quarantined",
        "rows_duplicate",
        "reconciles",
        "seconds",
        "min_date",
        "max_date",
        "error",
    ]
    table = frame[[c for c in keep if c in frame.columns]]
    show_table(ctx, "Files", table, "/api/v1/files")


def quarantine(ctx: PageContext) -> None:
    file_rows = ctx.source.ledger("files", FILES)["files"]
    reasons = frames.reason_totals(file_rows)
    data = ctx.source.ledger("quarantine", QUARANTINE)
    rows = data["rows"]
    if reasons.empty and not rows:
        st.success("No row has been quarantined.", icon=":material/check_circle:")
        return
    if not reasons.empty:
        chart(charts.hbar(reasons, "reason", "rows", "rows"))
        show_table(ctx, "Quarantine reasons", reasons, "/api/v1/files")
    if rows:
        frame = pd.DataFrame(
            {
                "file": [r.get("file") for r in rows],
                "line": [r.get("line") for r in rows],
                "reasons": [", ".join(r.get("reasons") or []) for r in rows],
                "raw": [json.dumps(r.get("raw") or {}, ensure_ascii=False) for r in rows],
                "state": [r.get("state") for r in rows],
            }
        )
        if data["has_more"]:
            # The API pages without a total; the files ledger counts every quarantined row.
            total = int(reasons_total(file_rows))
            st.caption(
                f"The first {len(rows):,} open quarantined rows of more"
                + (f" ({total:,} quarantined in all, per the files ledger)" if total else "")
                + "; `salespipe quarantine export` writes them all."
            )
        else:
            st.caption(f"{len(rows):,} open quarantined rows.")
        show_table(ctx, "Quarantined rows", frame, "/api/v1/quarantine")


def reasons_total(file_rows: list[dict[str, object]]) -> int:
    return sum(int(str(f.get("rows_quarantined") or 0)) for f in file_rows)


def alerts(ctx: PageContext) -> None:
    data = ctx.source.ledger("alerts", ALERTS)
    if not data.get("available"):
        st.info("Monitoring has not recorded any event yet (`salespipe monitor`).")
        return
    if not data["alerts"]:
        st.success("No alert or anomaly.", icon=":material/check_circle:")
        return
    frame = pd.DataFrame(data["alerts"])
    open_ = frame[frame["state"].fillna("open") == "open"] if "state" in frame else frame
    st.caption(f"{len(open_)} open of {len(frame)} events.")
    show_table(ctx, "Alerts", frame, "/api/v1/alerts")


def marts(ctx: PageContext) -> None:
    catalog = list(ctx.source.catalog().values())
    frame = pd.DataFrame(
        {
            "mart": [m["name"] for m in catalog],
            "status": [m["status"] for m in catalog],
            "rows": [m.get("rows") for m in catalog],
            "last refresh": [m.get("last_mode") for m in catalog],
            "seconds": [m.get("last_seconds") for m in catalog],
            "refreshed_at": [m.get("refreshed_at") for m in catalog],
            "note": [m.get("note") for m in catalog],
        }
    )
    show_table(ctx, "Marts", frame, "/api/v1/marts")


def render(ctx: PageContext) -> None:
    st.title("Data health")
    st.caption("The whole ledger, whatever the filters.")
    tabs = st.tabs(["Runs", "Files", "Quarantine", "Alerts", "Marts"])
    sections = (
        ("Runs", runs),
        ("Files", files),
        ("Quarantine", quarantine),
        ("Alerts", alerts),
        ("Marts", marts),
    )
    for tab, (name, draw) in zip(tabs, sections, strict=True):
        with tab, guarded(name):
            draw(ctx)


if __name__ == "__main__":
    render(current_context())
