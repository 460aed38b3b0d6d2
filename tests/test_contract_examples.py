"""The three worked examples of docs/contracts.md, loaded by configuration alone.

Each test copies an example folder from examples/ to tmp_path and runs the real CLI
in a process. The KPIs it prints are compared, to the cent, with totals computed
here from the raw sample files with the csv module and Decimal, so the expectation
does not share code (or mistakes) with the contract compiler.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pytest

from salespipe.contract.canonical import BUILTIN_REASONS, DUPLICATE_KEY
from salespipe.ingest.load import MALFORMED

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CENT = Decimal("0.01")


def salespipe(config: Path, *args: str) -> Any:
    """Run `salespipe --config CONFIG ARGS --json` as a real process; return its JSON."""
    proc = subprocess.run(
        [sys.executable, "-m", "salespipe.cli.app", "--config", str(config), *args, "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"salespipe {' '.join(args)} exited {proc.returncode}: {proc.stderr}"
    )
    return json.loads(proc.stdout, parse_float=Decimal)


def copy_example(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("*.duckdb*"))
    return target / "salespipe.yaml"


def number(text: str, decimal_comma: bool = False) -> Decimal | None:
    """A raw amount as Decimal, or None when it is not a plain number."""
    text = text.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parses(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


@dataclass
class Expected:
    """What a correct load yields: KPI totals and the reasons of every rejected line."""

    lines: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)  # order, qty, price
    quarantined: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    def add(self, order: str, quantity: Decimal, price: Decimal) -> None:
        self.lines.append((order, quantity, price))

    def kpis(self, with_orders: bool = True) -> dict[str, Any]:
        revenue = [(o, q, q * p) for o, q, p in self.lines]
        gross = sum((r for _, q, r in revenue if q > 0), Decimal(0))
        returns = -sum((r for _, q, r in revenue if q < 0), Decimal(0))
        return {
            "net_sales": (gross - returns).quantize(CENT, rounding=ROUND_HALF_UP),
            "gross_sales": gross.quantize(CENT, rounding=ROUND_HALF_UP),
            "returns_value": returns.quantize(CENT, rounding=ROUND_HALF_UP),
            "orders": len({o for o, q, _ in revenue if q > 0}) if with_orders else None,
            "units_sold": sum((q for _, q, _ in revenue if q > 0), Decimal(0)),
        }

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for codes in self.quarantined.values():
            for code in codes:
                counts[code] = counts.get(code, 0) + 1
        return counts


def assert_kpis(config: Path, expected: Expected, with_orders: bool = True) -> dict[str, Any]:
    kpis = salespipe(config, "kpi")
    want = expected.kpis(with_orders)
    got = {key: kpis[key] for key in want}
    if got["orders"] is not None:
        got["orders"] = int(got["orders"])
    got["units_sold"] = Decimal(got["units_sold"])
    assert got == want
    return kpis


def quarantined_lines(config: Path) -> dict[tuple[str, int], set[str]]:
    rows = salespipe(config, "quarantine", "list", "--limit", "0")
    return {(Path(r["file"]).name, r["line"]): set(r["reasons"]) for r in rows}


def assert_rerun_skips(config: Path) -> None:
    again = salespipe(config, "run")
    assert again["files"], "the landing folder still holds the files"
    assert {f["status"] for f in again["files"]} == {"skipped"}
    assert again["totals"]["rows_loaded"] == again["totals"]["rows_updated"] == 0
    status = salespipe(config, "status")
    assert all(f["reconciles"] for f in status["files"])


# (a) bakery point of sale ------------------------------------------------------------

BAKERY_FORMAT = "%d/%m/%Y %H:%M:%S"


def bakery_expected(folder: Path) -> Expected:
    expected = Expected()
    for path in sorted((folder / "landing" / "pos").glob("ventes_*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=";")
            header = next(reader)
            for values in reader:
                where = (path.name, reader.line_num)
                if len(values) != len(header):
                    expected.quarantined[where] = {"malformed_row"}
                    continue
                row = dict(zip(header, values, strict=True))
                price = number(row["Prix TTC"], decimal_comma=True)
                reasons = set()
                if not parses(f"{row['Date']} {row['Heure']}", BAKERY_FORMAT):
                    reasons.add("bad_timestamp")
                if price is None:
                    reasons.add("bad_number")
                if not row["Article"].strip() or not row["Taille"].strip():
                    reasons.add("missing_value:product_id")
                if price is not None and price < 0:
                    reasons.add("negative_price")
                if price is not None and price > 50:
                    reasons.add("rule:price_cap")
                if reasons:
                    expected.quarantined[where] = reasons
                else:
                    assert price is not None
                    expected.add(row["Ticket"], Decimal(1), price)
    return expected


@pytest.fixture
def bakery(tmp_path: Path) -> Iterator[tuple[Path, Expected, dict[str, Any]]]:
    config = copy_example("bakery_pos", tmp_path)
    run = salespipe(config, "run")
    yield config, bakery_expected(config.parent), run


def test_bakery_pos_kpis_match_the_till_lines(
    bakery: tuple[Path, Expected, dict[str, Any]],
) -> None:
    config, expected, run = bakery
    assert [f["status"] for f in run["files"]] == ["loaded", "loaded"]
    assert (
        run["totals"]["reasons"]
        == expected.reasons()
        == {
            "bad_timestamp": 1,
            "bad_number": 1,
            "missing_value:product_id": 1,
            "negative_price": 1,
            "malformed_row": 1,
            "rule:price_cap": 1,
        }
    )
    # two croissants on one ticket are two lines, not a duplicate
    assert run["totals"]["rows_duplicate"] == 0
    assert "duplicate_key" not in run["totals"]["reasons"]
    kpis = assert_kpis(config, expected)
    assert kpis["returns_value"] == 0
    assert (kpis["from"], kpis["to"]) == ("2024-03-01", "2024-03-02")
    assert_rerun_skips(config)


def test_bakery_pos_quarantine_points_at_the_planted_lines(
    bakery: tuple[Path, Expected, dict[str, Any]],
) -> None:
    config, expected, _ = bakery
    assert quarantined_lines(config) == expected.quarantined


# (b) 1C daily shop x item totals -----------------------------------------------------


def read_ref(path: Path, key: str) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row[key]: row for row in csv.DictReader(fh)}


@dataclass
class DailyTotals:
    """The 1C export replayed by hand: the latest line per (day, shop, item) wins."""

    items: set[str]
    final: dict[tuple[str, str, str], tuple[Decimal, Decimal]] = field(default_factory=dict)
    quarantined: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    def load(self, path: Path) -> dict[str, int]:
        counts = {"loaded": 0, "updated": 0, "duplicate": 0}
        seen: set[tuple[str, str, str]] = set()
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                where = (path.name, reader.line_num)
                qty, price = number(row["item_cnt_day"]), number(row["item_price"])
                reasons = set()
                if not parses(row["date"], "%d.%m.%Y"):
                    reasons.add("bad_timestamp")
                if qty is None or price is None:
                    reasons.add("bad_number")
                if price is not None and price < 0:
                    reasons.add("negative_price")
                if qty == 0:
                    reasons.add("zero_quantity")
                if row["item_id"] not in self.items:
                    reasons.add("rule:known_item")
                key = (row["date"], row["shop_id"], row["item_id"])
                if not reasons and key in seen:
                    reasons.add("duplicate_key")
                if reasons:
                    self.quarantined[where] = reasons
                    continue
                assert qty is not None and price is not None
                seen.add(key)
                if key not in self.final:
                    counts["loaded"] += 1
                elif self.final[key] == (qty, price):
                    counts["duplicate"] += 1
                else:
                    counts["updated"] += 1
                self.final[key] = (qty, price)
        return counts

    def expected(self, keep: set[str] | None = None) -> Expected:
        out = Expected()
        for (_, _, item), (qty, price) in self.final.items():
            if keep is None or item in keep:
                out.add("", qty, price)
        out.quarantined = self.quarantined
        return out


def test_future_sales_daily_totals_lookups_and_late_correction(tmp_path: Path) -> None:
    config = copy_example("future_sales", tmp_path)
    folder = config.parent
    ref = folder / "ref"
    items = read_ref(ref / "items.csv", "item_id")
    categories = read_ref(ref / "item_categories.csv", "item_category_id")
    labels = read_ref(ref / "labels_en.csv", "ru")
    shops = read_ref(ref / "shops.csv", "shop_id")
    totals = DailyTotals(items=set(items))

    first = salespipe(config, "run")
    want = totals.load(folder / "landing" / "sales" / "sales_train.csv")
    (result,) = first["files"]
    assert result["status"] == "loaded"
    assert result["rows_loaded"] == want["loaded"]
    assert (
        result["reasons"]
        == totals.expected().reasons()
        == {
            "bad_timestamp": 1,
            "negative_price": 1,
            "zero_quantity": 1,
            "rule:known_item": 1,
            "duplicate_key": 1,
        }
    )
    assert quarantined_lines(config) == totals.quarantined
    kpis = assert_kpis(config, totals.expected(), with_orders=False)
    assert kpis["returns_value"] > 0  # negative item_cnt_day are returns

    # a late correction: one day's count changed, one line sent again unchanged
    shutil.copy(folder / "late" / "sales_train_fix.csv", folder / "landing" / "sales")
    second = salespipe(config, "run")
    want = totals.load(folder / "landing" / "sales" / "sales_train_fix.csv")
    by_name = {Path(f["uri"]).name: f for f in second["files"]}
    assert by_name["sales_train.csv"]["status"] == "skipped"
    fix = by_name["sales_train_fix.csv"]
    assert (fix["rows_loaded"], fix["rows_updated"], fix["rows_duplicate"]) == (
        want["loaded"],
        want["updated"],
        want["duplicate"],
    )
    assert (fix["rows_updated"], fix["rows_duplicate"]) == (1, 1)
    assert_kpis(config, totals.expected(), with_orders=False)

    # chained lookups: item -> category (Russian) -> English label
    def category_of(item_id: str) -> str:
        russian = categories[items[item_id]["item_category_id"]]["item_category_name"]
        return labels[russian]["en"]

    for category in ("Games - PS3", "Gifts - Bags, albums, mouse pads"):
        keep = {i for i in items if category_of(i) == category}
        filtered = salespipe(config, "kpi", "--category", category)
        want_kpis = totals.expected(keep).kpis(with_orders=False)
        assert filtered["net_sales"] == want_kpis["net_sales"] != 0

    # shops: English names from the labels file, the city from the Russian name
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        stores = {
            store_id: (name, city)
            for store_id, name, city in con.execute(
                "SELECT store_id, store_name, city FROM dim_store"
            ).fetchall()
        }
    assert stores == {
        shop_id: (labels[shop["shop_name"]]["en"], shop["shop_name"].split(" ")[0])
        for shop_id, shop in shops.items()
    }
    assert stores["31"] == ("Moscow Semenovsky mall", "Москва")
    assert_rerun_skips(config)


# (c) online retail invoices ----------------------------------------------------------


def retail_expected(path: Path) -> tuple[Expected, dict[str, list[Decimal]]]:
    """Expected totals, and the revenue of valid lines per invoice prefix ('C' or '')."""
    expected = Expected()
    by_prefix: dict[str, list[Decimal]] = {"C": [], "": []}
    seen: set[tuple[str, str, Decimal, Decimal]] = set()
    with path.open(encoding="latin-1", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            where = (path.name, reader.line_num)
            qty, price = number(row["Quantity"]), number(row["UnitPrice"])
            reasons = set()
            if not parses(row["InvoiceDate"], "%m/%d/%Y %H:%M"):
                reasons.add("bad_timestamp")
            if qty is None or price is None:
                reasons.add("bad_number")
            if not row["StockCode"].strip():
                reasons.add("missing_value:product_id")
            if price is not None and price < 0:
                reasons.add("negative_price")
            if qty == 0:
                reasons.add("zero_quantity")
            if price == 0:
                reasons.add("rule:priced")
            if not reasons:
                assert qty is not None and price is not None
                key = (row["InvoiceNo"], row["StockCode"], qty, price)
                if key in seen:
                    reasons.add("duplicate_key")
                seen.add(key)
            if reasons:
                expected.quarantined[where] = reasons
                continue
            assert qty is not None and price is not None
            expected.add(row["InvoiceNo"], qty, price)
            by_prefix["C" if row["InvoiceNo"].startswith("C") else ""].append(qty * price)
    return expected, by_prefix


def test_online_retail_cancellations_and_orders(tmp_path: Path) -> None:
    config = copy_example("online_retail", tmp_path)
    (path,) = (config.parent / "landing" / "invoices").glob("*.csv")
    expected, by_prefix = retail_expected(path)

    run = salespipe(config, "run")
    (result,) = run["files"]
    assert result["status"] == "loaded"
    assert (
        result["reasons"]
        == expected.reasons()
        == {
            "bad_timestamp": 1,
            "bad_number": 1,
            "negative_price": 1,
            "rule:priced": 1,
            "duplicate_key": 1,
        }
    )
    assert quarantined_lines(config) == expected.quarantined

    kpis = assert_kpis(config, expected)
    # returns are exactly the cancellation invoices ('C...'), and only those are negative
    assert all(r < 0 for r in by_prefix["C"]) and all(r > 0 for r in by_prefix[""])
    assert (
        kpis["returns_value"]
        == -sum(by_prefix["C"], Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
        > 0
    )
    # orders: invoices with a positive line; cancellations and rejected-only invoices are not
    invoices = {order for order, _, _ in expected.lines}
    assert int(kpis["orders"]) == len({i for i in invoices if not i.startswith("C")})
    assert int(kpis["active_stores"]) == 6  # one store per country

    # Latin-1 text arrives intact, in the warehouse and in the quarantine
    (timestamp_row,) = salespipe(config, "quarantine", "list", "--reason", "bad_timestamp")
    assert timestamp_row["raw"]["Description"] == "PARISIENNE CAFÉ SIGN"
    with duckdb.connect(str(config.parent / "warehouse.duckdb"), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT product_name FROM dim_product").fetchall()}
        customers = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT customer_id FROM fact_sales WHERE customer_id IS NOT NULL"
            ).fetchall()
        }
        guests = con.execute("SELECT count(*) FROM fact_sales WHERE customer_id IS NULL").fetchone()
    assert "PARISIENNE CAFÉ SIGN" in names
    # CustomerID 17850.0 is customer 17850; blank ids (guest checkouts) still load
    assert "17850" in customers and not any(c.endswith(".0") for c in customers)
    assert guests is not None and guests[0] > 0
    assert_rerun_skips(config)


# docs/contracts.md -------------------------------------------------------------------


def test_docs_show_every_example_config_and_every_reason_code() -> None:
    docs = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    configs = sorted(EXAMPLES.glob("*/salespipe.yaml"))
    assert len(configs) >= 3
    for config in configs:
        text = config.read_text(encoding="utf-8")
        assert f"```yaml\n{text}```" in docs, f"docs/contracts.md does not show {config} as it is"
    codes = {
        re.sub(r"^missing_value:(?!fx_rate$).*", "missing_value:<field>", c)
        for c in BUILTIN_REASONS
    }
    codes |= {DUPLICATE_KEY, MALFORMED, "rule:<name>", "missing_column:<field>"}
    undocumented = sorted(c for c in codes if f"| `{c}` |" not in docs)
    assert not undocumented, (
        f"reason codes missing from the table in docs/contracts.md: {undocumented}"
    )
