"""The detection benchmark: a generated year with labelled anomalies, loaded through the
pipeline and judged by the monitor's seasonal checks; recall per kind of anomaly and the
false alarms over the normal days. tests/test_monitor_benchmark.py runs it and checks
that docs/benchmarks.md shows the same table:

    python -m salespipe.monitor.benchmark --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from salespipe.config import load_config
from salespipe.config.model import Config
from salespipe.generate import GenerateOptions, generate_sales
from salespipe.generate.anomalies import ANOMALY_KINDS
from salespipe.monitor.calendar import special_days
from salespipe.monitor.days import DayJudgement
from salespipe.monitor.runner import duckdb_connection, settings_of
from salespipe.monitor.seasonal import SeasonalJudge
from salespipe.monitor.series import load_source_days

START, END = "<!-- bench:monitor:start -->", "<!-- bench:monitor:end -->"
DATASET = {
    "days": 365,
    "start": date(2025, 1, 1),
    "rows_per_day": 500,
    "stores": 4,
    "products": 200,
    "customers": 2000,
    "seed": 42,
    "anomalies": 30,
}
# What a US retailer would write: the public and unofficial holidays (Easter Sunday,
# Christmas Eve), two days after each (Black Friday, Small Business Saturday) and the one
# sales event the calendars lack, Cyber Monday. Every threshold is the default.
CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
timezone: UTC
sources:
  - name: pos
    landing: landing/pos
    pattern: "*.csv"
    formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
monitor:
  holidays: [US]
  holiday_categories: [public, unofficial]
  holiday_window: 2
  special_days: [2025-12-01]
"""


@dataclass
class BenchmarkResult:
    labels: list[dict[str, Any]]
    detected: set[int] = field(default_factory=set)  # label ids
    true_findings: int = 0  # flagged judgements explained by a label
    false_alarms: list[DayJudgement] = field(default_factory=list)
    normal_judgements: int = 0  # judgements of subject-days no anomaly touched
    seconds: float = 0.0

    @property
    def recall(self) -> float:
        return len(self.detected) / len(self.labels) if self.labels else 1.0

    @property
    def precision(self) -> float:
        flagged = self.true_findings + len(self.false_alarms)
        return self.true_findings / flagged if flagged else 1.0


def judge_history(config: Config, con: Any) -> list[DayJudgement]:
    """Every day of every source judged from scratch, as the first run after a backfill."""
    settings = settings_of(config)
    out: list[DayJudgement] = []
    for source in config.sources:
        data = load_source_days(duckdb_connection(con), config, source)
        if data is not None:
            judge = SeasonalJudge(data, settings, special_days(settings, data.first, data.last))
            out.extend(judge.judge(data.first))
    return out


def _covered(label: dict[str, Any]) -> list[date]:
    first = date.fromisoformat(label["day"])
    return [first + timedelta(days=k) for k in range(int(label["days"]))]


def score(
    labels: list[dict[str, Any]], judgements: list[DayJudgement], source: str
) -> BenchmarkResult:
    """A label is detected by a finding on one of its days about its store, every store
    (for a label without one) or the whole source; other findings are false alarms."""
    result = BenchmarkResult(labels)
    by_day: dict[date, list[dict[str, Any]]] = {}
    for label in labels:
        for day in _covered(label):
            by_day.setdefault(day, []).append(label)
    for j in judgements:
        store = j.subject.removeprefix(f"{source}/") if j.subject != source else None
        explaining = [
            label
            for label in by_day.get(j.day, [])
            if label["store"] is None or store is None or label["store"] == store
        ]
        if not j.flagged:
            if not explaining:
                result.normal_judgements += 1
            continue
        if explaining:
            result.true_findings += 1
            result.detected.update(int(label["id"]) for label in explaining)
        else:
            result.false_alarms.append(j)
    return result


def run_benchmark(workdir: Path) -> BenchmarkResult:
    """Generate, load with `salespipe run`'s code path, judge, score."""
    from salespipe.ingest.run import run_pipeline
    from salespipe.warehouse import open_warehouse

    started = time.perf_counter()
    landing = workdir / "landing" / "pos"
    report = generate_sales(GenerateOptions(out=landing, split="none", **DATASET))  # type: ignore[arg-type]
    (workdir / "salespipe.yaml").write_text(CONFIG, encoding="utf-8")
    config = load_config(str(workdir / "salespipe.yaml"))
    run_pipeline(config)
    with open_warehouse(config, read_only=True) as wh:
        judgements = judge_history(config, wh.con)
    result = score(report.anomalies, judgements, "pos")
    result.seconds = time.perf_counter() - started
    return result


def render(result: BenchmarkResult) -> str:
    """The markdown between the markers: deterministic (no timings)."""
    d = DATASET
    lines = [
        "## Monitor: anomaly detection",
        "",
        f"A generated year ({d['days']} days from {d['start']}, {d['rows_per_day']} lines a day "
        f"over {d['stores']} stores, seed {d['seed']}; weekly and yearly seasonality, US "
        f"retail holidays) with {d['anomalies']} labelled anomalies "
        "(`salespipe generate --anomalies`), loaded by `salespipe run` and judged by the "
        "seasonal checks with their default thresholds. Measured by "
        "`tests/test_monitor_benchmark.py`; regenerate with "
        "`python -m salespipe.monitor.benchmark --write docs/benchmarks.md`.",
        "",
        "| anomaly | injected | detected | recall |",
        "|---|---:|---:|---:|",
    ]
    for kind in ANOMALY_KINDS:
        ids = [int(x["id"]) for x in result.labels if x["kind"] == kind]
        found = len([i for i in ids if i in result.detected])
        lines.append(f"| {kind} | {len(ids)} | {found} | {_pct(found, len(ids))} |")
    total = len(result.labels)
    lines.append(
        f"| **all** | **{total}** | **{len(result.detected)}** | "
        f"**{_pct(len(result.detected), total)}** |"
    )
    flagged = result.true_findings + len(result.false_alarms)
    lines += [
        "",
        "| findings | count |",
        "|---|---:|",
        f"| on anomalous days (true) | {result.true_findings} |",
        f"| on normal days (false alarms) | {len(result.false_alarms)} |",
        f"| precision | {_pct(result.true_findings, flagged)} |",
        f"| normal subject-days judged | {result.normal_judgements:,} |",
    ]
    for j in result.false_alarms:
        lines.append(f"\nFalse alarm: {j.message}.")
    return "\n".join(lines) + "\n"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def section(text: str) -> str | None:
    """The current content between the markers, or None without markers."""
    match = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.S)
    return match.group(1) if match else None


def write_section(path: Path, body: str) -> None:
    """Replace (or append) this benchmark's section, keeping every other section."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{START}\n{body}{END}"
    if section(text) is not None:
        pattern = re.escape(START) + r"\n.*?" + re.escape(END)
        text = re.sub(pattern, lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", type=Path, help="Update this file's monitor section.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_benchmark(Path(tmp))
    body = render(result)
    if args.write:
        write_section(args.write, body)
    sys.stdout.write(body)
    sys.stderr.write(
        json.dumps({"recall": result.recall, "seconds": round(result.seconds, 1)}) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
