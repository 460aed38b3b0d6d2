"""Benchmark the dashboard: how long the overview takes to render in Chromium on a
10M-line warehouse, measured in the browser (performance.now() from navigation start).

The warehouse is bench_api.py's (copied, so both benchmarks can run); `salespipe serve`
and `salespipe dashboard --api` run as their own processes. Three kinds of visit:

- cold: the very first visit after both servers started (the API's cache is empty);
- new visitor: a fresh browser context each time (no HTTP cache), servers warm;
- returning visitor: the same context again (the browser has Streamlit's bundle).

For each: `cards` = the eight KPI cards show numbers, `charts` = the three charts are
drawn. Prints one JSON object; writes its section of docs/benchmarks.md unless --quick
or --no-doc. Needs playwright and Debian's chromium (never `playwright install`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data"
START_MARK = "<!-- bench:dashboard:start -->"
END_MARK = "<!-- bench:dashboard:end -->"
CHROMIUM = "/usr/bin/chromium"
TARGET_MS = 2000.0
CARDS_JS = """() => {
  const values = [...document.querySelectorAll('[data-testid=stMetricValue]')];
  return values.length >= 8 && values.every(v => v.textContent.trim().length > 0)
    ? performance.now() : null;
}"""
# The floor: Streamlit alone showing eight st.metric cards (what any Streamlit page pays).
FLOOR_APP = """import streamlit as st
cols = st.columns(4) + st.columns(4)
for i, col in enumerate(cols):
    col.metric(f"KPI {i}", "104,327.29", delta="+11.08% (+10,409.39)", border=True)
"""
CHARTS_JS = """() => document.querySelectorAll('.js-plotly-plot .svg-container').length >= 3
  ? performance.now() : null"""

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import Server, build_warehouse  # noqa: E402
from doc_section import write_section  # noqa: E402


def log(message: str) -> None:
    print(f"[bench_dashboard] {message}", file=sys.stderr, flush=True)


def warehouse(lines: int) -> tuple[Path, dict[str, Any]]:
    """bench_api's warehouse for `lines`, copied into a folder of our own."""
    source = DATA / f"api-{lines}"
    info = build_warehouse(source, lines)
    folder = DATA / f"dashboard-{lines}"
    marker = folder / "params.json"
    if not (marker.exists() and json.loads(marker.read_text()) == info):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy2(source / "warehouse.duckdb", folder / "warehouse.duckdb")
        shutil.copy2(source / "salespipe.yaml", folder / "salespipe.yaml")
        marker.write_text(json.dumps(info), encoding="utf-8")
    return folder, info


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A web server as its own process on a free port, waited for until it listens."""

    def __init__(self, folder: Path, name: str, command: list[str], port: int) -> None:
        import socket

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = folder / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_path.read_text())
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not start")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        time.sleep(1.0)  # Streamlit listens before its warm-up imports are done

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def start_dashboard(folder: Path, api: str) -> Process:
    """`salespipe dashboard --api URL`, as a user starts it."""
    port = free_port()
    command = [sys.executable, "-m", "salespipe.cli.app", "dashboard", "--api", api]
    return Process(folder, "dashboard", [*command, "--port", str(port)], port)


def start_floor(folder: Path) -> Process:
    script = folder / "floor_app.py"
    script.write_text(FLOOR_APP, encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    command += ["--browser.gatherUsageStats", "false"]
    return Process(folder, "floor", command, port)


def visit(page: Any, url: str, charts: bool = True) -> dict[str, float]:
    page.goto(url, wait_until="commit")
    cards = page.wait_for_function(CARDS_JS, timeout=120_000, polling=20).json_value()
    result = {"cards_ms": round(float(cards))}
    if charts:
        drawn = page.wait_for_function(CHARTS_JS, timeout=120_000, polling=20).json_value()
        result["charts_ms"] = round(float(drawn))
    return result


def measure(url: str, floor_url: str, visits: int) -> dict[str, Any]:
    """Visits of the dashboard, interleaved with visits of the floor app (same load)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )

        def fresh(target: str, charts: bool = True) -> dict[str, float]:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            try:
                return visit(context.new_page(), target, charts)
            finally:
                context.close()

        cold = fresh(url)
        log(f"cold: {cold}")
        new: list[dict[str, float]] = []
        floor: list[dict[str, float]] = []
        for _ in range(visits):
            new.append(fresh(url))
            floor.append(fresh(floor_url, charts=False))
        log(f"new visitors: {new}")
        log(f"floor (Streamlit alone, 8 metrics): {floor}")
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        visit(page, url)
        returning = [visit(page, url) for _ in range(visits)]
        log(f"returning visitors: {returning}")
        context.close()
        browser.close()

    def median(samples: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(s[key] for s in samples))

    return {
        "cold": cold,
        "new_visitor": {k: median(new, k) for k in ("cards_ms", "charts_ms")},
        "returning_visitor": {k: median(returning, k) for k in ("cards_ms", "charts_ms")},
        "floor": {"cards_ms": median(floor, "cards_ms")},
        "samples": {"new_visitor": new, "returning_visitor": returning, "floor": floor},
    }


def write_doc(result: dict[str, Any]) -> None:
    m = result["machine"]
    rows = [
        ("first visit after start (cold caches)", result["cold"]),
        (f"new visitor, median of {result['visits']}", result["new_visitor"]),
        (f"returning visitor, median of {result['visits']}", result["returning_visitor"]),
    ]
    section = "\n".join(
        [
            START_MARK,
            "## Dashboard",
            "",
            f"`python benchmarks/bench_dashboard.py`: the overview (default view, last 30 days, "
            f"8 KPI cards and 3 charts) over {result['lines']:,} sales lines "
            f"({result['warehouse_mb']:,} MB warehouse), `salespipe serve` and `salespipe "
            "dashboard` on this machine, Debian's Chromium headless through Playwright; times "
            "are `performance.now()` in the page, from navigation start. "
            f"{m['cpus']} CPUs, Python {m['python']}, measured {result['measured_at']} "
            f"(1-minute load average {m['load_average_1m_start']} at the start, "
            f"{m['load_average_1m']} at the end).",
            "",
            "| visit | KPI cards shown, ms | charts drawn, ms |",
            "|---|---:|---:|",
            *[f"| {name} | {r['cards_ms']:,.0f} | {r['charts_ms']:,.0f} |" for name, r in rows],
            f"| floor: Streamlit alone, a page of 8 `st.metric`, new visitor, median "
            f"| {result['floor']['cards_ms']:,.0f} | |",
            "",
            f"Target: first render (the KPI cards) of the overview <= {TARGET_MS:,.0f} ms for a "
            "new visitor — " + ("met." if result["target_met"] else "**not met**."),
            "",
            "The floor row is measured in the same run, visits interleaved with the dashboard's,",
            "so the machine's load weighs on both alike: the difference is the dashboard's own.",
            "",
            "Where the time goes: the page's data (KPIs with their comparison, month over month,",
            "three marts) is asked for in parallel and cached by snapshot id in the API and in",
            "the dashboard, so a visit after the first costs no query, and the script of a run",
            "takes 0.2-0.4 s. Most of a new visitor's wait is Streamlit's JavaScript (a returning",
            "visitor's browser has it): Plotly's component alone is 4.7 MB, loaded when the first",
            "chart arrives. The cards do not wait for it: the page is sent before the sidebar's",
            "widgets, the first run pauses a quarter of a second after the cards, and tables load",
            "only when their expander is opened.",
            END_MARK,
        ]
    )
    write_section(section, START_MARK, END_MARK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--visits", type=int, default=7, help="Visits of each kind.")
    parser.add_argument("--quick", action="store_true", help="200k lines, 2 visits, no doc.")
    parser.add_argument("--no-doc", action="store_true", help="Do not write docs/benchmarks.md.")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs Debian's chromium: apt-get install -y chromium")
    lines, visits = (200_000, 2) if args.quick else (args.lines, args.visits)
    folder, info = warehouse(lines)
    load_at_start = round(os.getloadavg()[0], 2)
    (folder / "warehouse.duckdb.server.json").unlink(missing_ok=True)
    server = Server(folder)
    try:
        dashboard = start_dashboard(folder, server.url)
        floor = start_floor(folder)
        try:
            timings = measure(dashboard.url, floor.url, visits)
        finally:
            floor.stop()
            dashboard.stop()
    finally:
        server.stop()
    result = {
        "lines": lines,
        "warehouse_mb": round(info["bytes"] / 1e6),
        "visits": visits,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            # other work on the machine slows the browser most: say how busy it was
            "load_average_1m_start": load_at_start,
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        **timings,
        "target_ms": TARGET_MS,
        "target_met": timings["new_visitor"]["cards_ms"] <= TARGET_MS,
    }
    print(json.dumps(result, indent=2))
    if not (args.quick or args.no_doc):
        write_doc(result)


if __name__ == "__main__":
    main()
