"""Detection quality, measured: a generated year with 30 labelled anomalies, loaded by the
pipeline and judged by the monitor. Recall at least 95%, at most 2 false alarms, and
docs/benchmarks.md shows exactly this run's table."""

from __future__ import annotations

from pathlib import Path

from salespipe.monitor.benchmark import render, run_benchmark, section

ROOT = Path(__file__).resolve().parents[1]


def test_detection_recall_and_false_alarms_on_a_generated_year(tmp_path: Path) -> None:
    result = run_benchmark(tmp_path)
    assert len(result.labels) == 30
    missed = [x for x in result.labels if int(x["id"]) not in result.detected]
    assert result.recall >= 0.95, f"missed: {missed}"
    assert len(result.false_alarms) <= 2, [j.message for j in result.false_alarms]
    documented = section((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    assert documented == render(result), (
        "docs/benchmarks.md is stale: python -m salespipe.monitor.benchmark "
        "--write docs/benchmarks.md"
    )
