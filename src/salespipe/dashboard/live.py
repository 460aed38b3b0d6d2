"""Live updates: a small fragment asks the API for its snapshot id every few seconds and
reruns the page only when the id changed, i.e. when a load or refresh has committed.

Nothing is refreshed by a timer: the poll costs one tiny request, and the cache keyed
by snapshot id decides what is fetched again.
"""

from __future__ import annotations

import time

import streamlit as st

from salespipe.dashboard.client import ApiClient, DashboardError


def watch_snapshot(client: ApiClient, shown: str | None, every: float) -> None:
    """Rerun the whole app as soon as the API's snapshot differs from `shown`."""

    # The first call runs inline with the page, which has just read the snapshot.
    first_call = [True]

    @st.fragment(run_every=every)
    def snapshot_watch() -> None:
        latest: str | None = shown
        if first_call:
            first_call.clear()
        else:
            try:
                latest = client.snapshot()
            except DashboardError:
                latest = None
        if latest is not None and latest != shown:
            st.rerun(scope="app")
        if latest is None:
            st.caption(":orange[●] API unreachable; retrying")
        else:
            st.caption(
                f":green[●] Live · {describe_snapshot(shown)} · checked {time.strftime('%H:%M:%S')}",
                help=f"The warehouse snapshot shown: {shown}. Pages rerun when it changes.",
            )

    snapshot_watch()


def describe_snapshot(snapshot: str | None) -> str:
    """A snapshot id (`[commits.]file_id.refresh_us`) in words: the last file loaded and
    when the marts were last refreshed (this machine's clock)."""
    parts = (snapshot or "").split(".")
    try:
        file_id, refreshed_us = int(parts[-2]), int(parts[-1])
    except (IndexError, ValueError):
        return "data snapshot " + (snapshot or "—")
    loaded = f"last file #{file_id}" if file_id else "no file loaded"
    if not refreshed_us:
        return loaded
    refreshed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(refreshed_us / 1e6))
    return f"{loaded} · marts refreshed {refreshed}"
