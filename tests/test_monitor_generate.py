"""`salespipe generate --anomalies`: labelled anomalies, reproducible, visible in the files,
and nothing changes when none are asked for."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from salespipe.generate import GenerateOptions, generate_sales
from salespipe.generate.anomalies import ANOMALY_KINDS, WARMUP_DAYS

from .conftest import cli


def options(out: Path, **changes: object) -> GenerateOptions:
    base = GenerateOptions(
        out=out, days=120, rows_per_day=200, stores=4, products=60, customers=300, seed=11
    )
    return replace(base, **changes)


def digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def rows_by_day(path: Path) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["sold_at"][:10], []).append(row)
    return out


def test_anomalies_are_labelled_and_reproducible(tmp_path: Path) -> None:
    first = generate_sales(options(tmp_path / "a", anomalies=10, split="none"))
    again = generate_sales(options(tmp_path / "b", anomalies=10, split="none"))
    assert digest(first.files) == digest(again.files)
    assert first.labels == tmp_path / "a" / "anomalies.json"
    labels = json.loads(first.labels.read_text())["anomalies"]
    assert labels == first.anomalies == json.loads(again.labels.read_text())["anomalies"]
    assert Counter(x["kind"] for x in labels) == dict.fromkeys(ANOMALY_KINDS, 2)
    days = [date.fromisoformat(x["day"]) + timedelta(k) for x in labels for k in range(x["days"])]
    assert len(set(days)) == len(days)  # one anomaly a day, never overlapping
    assert min(days) >= date(2025, 1, 1) + timedelta(WARMUP_DAYS)
    assert all(x["store"] is None for x in labels if x["kind"] == "partial_day")
    assert all(x["store"] in {"S01", "S02", "S03", "S04"} for x in labels if x["store"])


def test_without_anomalies_the_files_do_not_change(tmp_path: Path) -> None:
    plain = generate_sales(options(tmp_path / "a", days=20, dirty_rate=0.05))
    zero = generate_sales(options(tmp_path / "b", days=20, dirty_rate=0.05, anomalies=0))
    assert digest(plain.files) == digest(zero.files)
    assert plain.labels is None and not (tmp_path / "a" / "anomalies.json").exists()


def test_each_kind_shows_in_the_data(tmp_path: Path) -> None:
    clean = rows_by_day(generate_sales(options(tmp_path / "a", split="none")).files[0])
    report = generate_sales(options(tmp_path / "b", split="none", anomalies=10))
    dirty = rows_by_day(report.files[0])
    for label in report.anomalies:
        day = label["day"]
        store = label["store"]
        lines = [r for r in dirty[day] if store is None or r["store_id"] == store]
        usual = [r for r in clean[day] if store is None or r["store_id"] == store]
        kind = label["kind"]
        if kind == "silent":
            assert lines == []
        elif kind == "drop":
            assert len(lines) < 0.7 * len(usual)
        elif kind == "spike":
            assert len(lines) > 1.8 * len(usual)
        elif kind == "partial_day":
            assert max(r["sold_at"][11:16] for r in lines) < label["cutoff"]
        else:
            price = sum(Decimal(r["unit_price"]) for r in lines) / len(lines)
            before = sum(Decimal(r["unit_price"]) for r in usual) / len(usual)
            assert float(price / before) == pytest.approx(label["factor"], rel=0.35)


def test_generate_cli_reports_the_labels(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(
        "generate", "--out", out, "--days", "90", "--rows-per-day", "100", "--stores", "3",
        "--products", "40", "--customers", "100", "--anomalies", "5",
        "--labels", tmp_path / "labels.json", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["anomalies"] == 5 and data["labels"] == str(tmp_path / "labels.json")
    assert len(json.loads((tmp_path / "labels.json").read_text())["anomalies"]) == 5
    too_many = cli("generate", "--out", out, "--days", "50", "--anomalies", "40")
    assert too_many.code == 2 and "anomalies" in too_many.stderr
    negative = cli("generate", "--out", out, "--anomalies", "-1")
    assert negative.code == 2 and "anomalies" in negative.stderr
