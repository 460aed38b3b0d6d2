"""Tests of `salespipe.generate`: real files in tmp_path, read back independently."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from salespipe.generate import DEFECT_CODES, GenerateOptions, GenerateReport, generate_sales
from salespipe.generate.dialects import CSV, JSONL, TSV
from salespipe.generate.volume import draw_line_counts, plan_volume

COLUMNS = [
    "transaction_id", "line_no", "sold_at", "store_id", "store_name", "city", "region",
    "country", "product_id", "product_name", "category", "subcategory", "brand", "quantity",
    "unit_price", "discount", "unit_cost", "customer_id", "customer_name", "salesperson_id",
    "salesperson_name", "channel", "payment_method", "currency",
]  # fmt: skip
MONEY = re.compile(r"^-?\d+\.\d\d$")
INTEGER = re.compile(r"^-?\d+$")
TIMESTAMP = "%Y-%m-%d %H:%M:%S"

Row = dict[str, str]


def small(out: Path, **changes: object) -> GenerateOptions:
    options = GenerateOptions(
        out=out, days=4, rows_per_day=300, stores=4, products=80, customers=300
    )
    return replace(options, **changes)


def read_table(path: Path) -> tuple[list[str], list[Row]]:
    """Header and rows of any generated file, every value as text ('' for missing)."""
    suffix = path.suffix
    if suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter="," if suffix == ".csv" else "\t")
            header, *records = list(reader)
        return header, [dict(zip(header, r, strict=True)) for r in records]
    if suffix == ".jsonl":
        objects = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        header = list(objects[0]) if objects else []
        return header, [{k: v or "" for k, v in o.items()} for o in objects]
    if suffix == ".parquet":
        table = pq.read_table(path)
        assert all(str(t) == "string" for t in table.schema.types)
        return table.column_names, [{k: v or "" for k, v in r.items()} for r in table.to_pylist()]
    if suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True)["sales"]
        header, *records = [list(r) for r in sheet.iter_rows(values_only=True)]
        return header, [{k: v or "" for k, v in zip(header, r, strict=True)} for r in records]
    raise AssertionError(f"unexpected file {path}")


def read_rows(report: GenerateReport) -> list[Row]:
    return [row for path in report.files for row in read_table(path)[1]]


def number(text: str) -> Decimal | None:
    if not (MONEY.match(text) or INTEGER.match(text)):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the patterns above exclude it
        return None


def defects_of(row: Row, earlier: dict[tuple[str, str], Row]) -> list[str]:
    """Reason codes a validator following DESIGN.md gives this row, found independently."""
    found = []
    try:
        datetime.strptime(row["sold_at"], TIMESTAMP)
    except ValueError:
        found.append("bad_timestamp")
    quantity, price = number(row["quantity"]), number(row["unit_price"])
    discount, cost = number(row["discount"]), number(row["unit_cost"])
    if quantity is None or price is None or discount is None or cost is None:
        found.append("bad_number")
    if row["product_id"] == "":
        found.append("missing_value:product_id")
    if price is not None and price < 0:
        found.append("negative_price")
    if quantity is not None and quantity == 0:
        found.append("zero_quantity")
    if None not in (quantity, price, discount) and discount > abs(quantity * price):  # type: ignore[operator]
        found.append("discount_exceeds_amount")
    if cost is not None and cost < 0:
        found.append("negative_cost")
    key = (row["transaction_id"], row["line_no"])
    if key in earlier:
        found.append("duplicate_key")
        assert earlier[key] == row, "a duplicate is an exact copy"
    else:
        earlier[key] = row
    return found


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first = generate_sales(small(tmp_path / "a", dirty_rate=0.1))
    again = generate_sales(small(tmp_path / "b", dirty_rate=0.1))
    other = generate_sales(small(tmp_path / "c", dirty_rate=0.1, seed=7))
    assert [p.name for p in first.files] == [p.name for p in again.files]
    for a, b in zip(first.files, again.files, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert first.rows == again.rows and first.defects == again.defects
    assert first.files[0].read_bytes() != other.files[0].read_bytes()


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_binary_formats_are_deterministic(tmp_path: Path, fmt: str) -> None:
    options = small(tmp_path / "a", days=2, rows_per_day=100, format=fmt, split="none")
    first = generate_sales(options)
    again = generate_sales(replace(options, out=tmp_path / "b"))
    assert first.files[0].read_bytes() == again.files[0].read_bytes()


def test_every_format_holds_the_same_text(tmp_path: Path) -> None:
    reference: list[Row] | None = None
    for fmt in ["csv", "tsv", "jsonl", "parquet", "xlsx"]:
        report = generate_sales(
            small(
                tmp_path / fmt, days=2, rows_per_day=150, format=fmt, split="none", dirty_rate=0.1
            )
        )
        assert report.files == [tmp_path / fmt / f"sales.{fmt}"]
        header, rows = read_table(report.files[0])
        assert header == COLUMNS
        assert len(rows) == report.rows
        if reference is None:
            reference = rows
        assert rows == reference, fmt


def test_clean_values_are_canonical_text(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path, days=3))
    rows = read_rows(report)
    assert len(rows) == report.rows > 0
    for row in rows:
        datetime.strptime(row["sold_at"], TIMESTAMP)
        assert INTEGER.match(row["quantity"]) and row["quantity"] != "0"
        assert INTEGER.match(row["line_no"]) and int(row["line_no"]) >= 1
        for field in ("unit_price", "discount", "unit_cost"):
            assert MONEY.match(row[field]) and not row[field].startswith("-"), row
        quantity, price = Decimal(row["quantity"]), Decimal(row["unit_price"])
        assert Decimal(row["discount"]) <= abs(quantity * price)
        if quantity > 0:
            margin = 1 - Decimal(row["unit_cost"]) / price
            assert Decimal("0.19") < margin < Decimal("0.61"), row
        assert row["transaction_id"].startswith("T") and row["product_id"]
        assert row["currency"] == "USD"
        assert row["channel"] in {"store", "online"}
        assert (row["salesperson_id"] == "") == (row["channel"] == "online")
        assert (row["customer_id"] == "") == (row["customer_name"] == "")


def test_transactions_are_unique_and_numbered_from_one(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path, days=5))
    lines: dict[str, list[int]] = defaultdict(list)
    heads: dict[str, tuple[str, ...]] = {}
    for row in read_rows(report):
        tid = row["transaction_id"]
        lines[tid].append(int(row["line_no"]))
        head = tuple(row[k] for k in ("sold_at", "store_id", "customer_id", "channel"))
        assert heads.setdefault(tid, head) == head, "one time, store, customer per transaction"
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in lines.values())
    assert sum(len(n) for n in lines.values()) > 2 * len(lines) * 0.8  # multi-line baskets


def check_defects(report: GenerateReport) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in report.files:
        earlier: dict[tuple[str, str], Row] = {}
        for row in read_table(path)[1]:
            codes = defects_of(row, earlier)
            assert len(codes) <= 1, (codes, row)
            found.update(codes)
    return found


@pytest.mark.parametrize("split", ["day", "none"])
def test_defect_counts_match_what_a_validator_finds(tmp_path: Path, split: str) -> None:
    report = generate_sales(small(tmp_path, dirty_rate=0.2, split=split))
    assert list(report.defects) == list(DEFECT_CODES)
    assert all(count > 0 for count in report.defects.values())
    assert check_defects(report) == Counter(report.defects)
    defective = sum(report.defects.values())
    assert defective == pytest.approx(0.2 * report.rows, abs=2)
    assert report.rows == len(read_rows(report))


def test_no_defects_without_dirty_rate(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path))
    assert report.defects == {}
    assert check_defects(report) == Counter()


def test_dirty_rate_leaves_clean_lines_of_other_days_alone(tmp_path: Path) -> None:
    clean = read_rows(generate_sales(small(tmp_path / "clean", split="none")))
    dirty = read_rows(generate_sales(small(tmp_path / "dirty", split="none", dirty_rate=0.1)))
    clean_keys = {(r["transaction_id"], r["line_no"]): r for r in clean}
    unchanged = sum(clean_keys.get((r["transaction_id"], r["line_no"])) == r for r in dirty)
    assert unchanged >= 0.85 * len(clean)


def test_returns_are_about_two_percent_and_refund_earlier_sales(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path, days=45, rows_per_day=800, split="none"))
    rows = read_rows(report)
    returns = [r for r in rows if r["quantity"].startswith("-")]
    assert 0.013 < len(returns) / len(rows) < 0.03
    sizes = Counter(r["transaction_id"] for r in rows)
    first_sale: dict[tuple[str, str], str] = {}
    for r in rows:
        if not r["quantity"].startswith("-"):
            first_sale.setdefault((r["store_id"], r["product_id"]), r["sold_at"])
    for r in returns:
        assert sizes[r["transaction_id"]] == 1 and r["line_no"] == "1"
        assert r["discount"] == "0.00"
        sold = first_sale[(r["store_id"], r["product_id"])]
        assert sold[:10] < r["sold_at"][:10], "returned on a later day than first sold"


def test_weekends_are_busier_than_weekdays(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path, days=28, rows_per_day=1000, start=date(2025, 3, 3)))
    per_weekday: dict[int, list[int]] = defaultdict(list)
    for path in report.files:
        day = date.fromisoformat(path.stem.removeprefix("sales_"))
        per_weekday[day.weekday()].append(len(read_table(path)[1]))
    weekday = sum(sum(per_weekday[d]) for d in range(4)) / 16
    weekend = sum(sum(per_weekday[d]) for d in (5, 6)) / 8
    assert weekend > 1.2 * weekday


def test_christmas_is_closed_and_the_days_before_are_busy(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path, days=20, start=date(2025, 12, 8)))
    counts = {p.stem.removeprefix("sales_"): len(read_table(p)[1]) for p in report.files}
    assert counts["2025-12-25"] == 0
    # Monday and Tuesday before Christmas against the same weekdays two weeks earlier.
    assert counts["2025-12-22"] + counts["2025-12-23"] > 1.2 * (
        counts["2025-12-08"] + counts["2025-12-09"]
    )


def test_about_a_quarter_of_lines_have_no_customer(tmp_path: Path) -> None:
    rows = read_rows(generate_sales(small(tmp_path, days=10, rows_per_day=1000)))
    walk_in = sum(r["customer_id"] == "" for r in rows) / len(rows)
    assert 0.2 <= walk_in <= 0.3
    repeat = Counter(r["customer_id"] for r in rows if r["customer_id"])
    top = sum(n for _, n in repeat.most_common(len(repeat) // 10))
    assert top > 0.3 * sum(repeat.values()), "a tenth of the customers buys a third"


def test_split_by_day_writes_one_file_per_day(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path, days=3, start=date(2025, 2, 27)))
    names = ["sales_2025-02-27.csv", "sales_2025-02-28.csv", "sales_2025-03-01.csv"]
    assert [p.name for p in report.files] == names
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    for path in report.files:
        assert {r["sold_at"][:10] for r in read_table(path)[1]} == {path.stem[6:]}
    assert sum(len(read_table(p)[1]) for p in report.files) == report.rows


def test_split_none_writes_one_file(tmp_path: Path) -> None:
    report = generate_sales(small(tmp_path, split="none", format="tsv"))
    assert report.files == [tmp_path / "sales.tsv"]
    assert [p.name for p in tmp_path.iterdir()] == ["sales.tsv"]
    rows = read_table(report.files[0])[1]
    assert len(rows) == report.rows
    assert len({r["sold_at"][:10] for r in rows}) == 4


def test_progress_reports_lines_written(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    report = generate_sales(
        small(tmp_path, dirty_rate=0.1), progress=lambda d, t: calls.append((d, t))
    )
    assert len(calls) == 4
    assert calls[-1] == (report.rows, report.rows)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"days": 0}, "days"),
        ({"rows_per_day": -5}, "rows_per_day"),
        ({"stores": 2.5}, "stores"),
        ({"seed": -1}, "seed"),
        ({"dirty_rate": 0.9}, "dirty_rate"),
        ({"dirty_rate": float("nan")}, "dirty_rate"),
        ({"format": "xml"}, "format"),
        ({"split": "week"}, "split"),
        ({"start": datetime(2025, 1, 1, 10, 0)}, "start"),
        ({"rows_per_day": 2_000_000}, "more days"),
        ({"format": "xlsx", "split": "none", "days": 2, "rows_per_day": 600_000}, "xlsx"),
    ],
)
def test_bad_options_raise_value_error(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate_sales(replace(small(tmp_path), **change))
    assert not any(tmp_path.iterdir())


def test_out_must_not_be_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ValueError, match="directory"):
        generate_sales(small(target))


def test_report_counts_match_files(tmp_path: Path) -> None:
    def lines(path: Path) -> int:
        return len(path.read_text(encoding="utf-8").splitlines()) - 1

    report = generate_sales(small(tmp_path, dirty_rate=0.05))
    assert sum(lines(p) for p in report.files) == report.rows
    assert report.seconds > 0


def test_volume_adjustment_is_the_hook_for_anomalies() -> None:
    seasonal = np.array([1.0, 1.0, 2.0, 0.0])
    plan = plan_volume(seasonal, np.array([0.25, 0.75]), rows_per_day=1000)
    assert plan.adjustment.shape == (4, 2)
    assert plan.expected_lines().sum() == pytest.approx(4000)
    silent = plan.adjustment.copy()
    silent[2, 1] = 0.0  # store 1 goes silent on day 2
    counts = draw_line_counts(
        replace(plan, adjustment=silent), np.full(4, 0.02), np.random.default_rng(1)
    )
    assert counts.lines[2, 1] == 0 and counts.lines[2, 0] > 0
    assert counts.lines[3].sum() == 0


def test_text_dialects_escape_only_when_needed() -> None:
    values = ["plain", "a,b", 'say "hi"', "tab\there", None]
    assert CSV.column("x", values) == ["plain", '"a,b"', '"say ""hi"""', "tab\there", ""]
    assert TSV.column("x", values) == ["plain", "a,b", '"say ""hi"""', '"tab\there"', ""]
    assert [json.loads("{" + f + "}") for f in JSONL.column("x", values)] == [
        {"x": v} for v in values
    ]
    assert CSV.column("x", ["Zoë", None]) == ["Zoë", ""]
