"""Incremental refresh gives exactly the rows of a full rebuild, whatever the loads were.

Loads go through the real pipeline (run_pipeline: load, mart_dirty, refresh, checks),
with late corrections of earlier lines, returns in later months, a month without
sales, dimension attributes (region, category) that change between loads, and local
times in two zones, some at midnight (days without a time of day, for sales_hourly).
"""

from __future__ import annotations

import csv
import math
import shutil
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salespipe.config import load_config
from salespipe.ingest.load import LoadContext, load_file
from salespipe.ingest.run import run_pipeline
from salespipe.landing import discover_files
from salespipe.marts import BUILD_ORDER, refresh_marts
from salespipe.marts.errors import MartError
from salespipe.marts.model import Mart
from salespipe.quality import run_checks, stored_report
from salespipe.warehouse.duckdb import DuckDBWarehouse, open_duckdb

from .conftest import BASIC_CONFIG

COLUMNS = [
    "transaction_id",
    "line_no",
    "sold_at",
    "store_id",
    "region",
    "product_id",
    "category",
    "subcategory",
    "quantity",
    "unit_price",
    "discount",
    "unit_cost",
    "customer_id",
    "customer_name",
    "salesperson_id",
]
DAYS = ["2025-01-03", "2025-01-31", "2025-02-01", "2025-02-15", "2025-04-10", "2025-04-11"]

line = st.fixed_dictionaries(
    {
        "transaction_id": st.sampled_from(["T1", "T2", "T3", "T4", "T5", "T6"]),
        "line_no": st.sampled_from(["1", "2"]),
        # 00:00:00: a day whose lines all sit at midnight has no time of day (sales_hourly)
        "sold_at": st.tuples(
            st.sampled_from(DAYS), st.sampled_from(["09:00:00", "18:30:00", "00:00:00"])
        ).map(" ".join),
        "store_id": st.sampled_from(["S1", "S2"]),
        "region": st.sampled_from(["West", "East"]),
        "product_id": st.sampled_from(["P1", "P2", "P3", "P4"]),
        "category": st.sampled_from(["Food", "Home"]),
        "subcategory": st.sampled_from(["", "Fresh"]),
        "quantity": st.sampled_from(["1", "2", "3", "-1", "-2"]),
        "unit_price": st.sampled_from(["1.00", "2.50", "9.99"]),
        "discount": st.sampled_from(["0", "0.50"]),
        "unit_cost": st.sampled_from(["0.40", ""]),
        "customer_id": st.sampled_from(["C1", "C2", "C3", ""]),
        "customer_name": st.sampled_from(["Ann", "Bob"]),
        "salesperson_id": st.sampled_from(["E1", "E2", ""]),
    }
)
# runs, each of one or more files, each of some lines
# Local times in two zones, one of them half an hour off UTC (local midnight is 18:30 UTC).
ZONED_CONFIG = BASIC_CONFIG.replace(
    "    pattern:",
    "    timezone: Europe/Paris\n    store_timezones: {S2: Asia/Kolkata}\n    pattern:",
)
assert ZONED_CONFIG != BASIC_CONFIG
runs = st.lists(
    st.lists(st.lists(line, min_size=1, max_size=8), min_size=1, max_size=2), min_size=1, max_size=3
)


def write_file(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r[c] for c in COLUMNS])


def snapshot(
    con: duckdb.DuckDBPyConnection, marts: tuple[Mart, ...] = BUILD_ORDER
) -> dict[str, Any]:
    tables = {
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    out: dict[str, Any] = {}
    for mart in marts:
        if mart.name in tables:
            rows = con.execute(f"SELECT * FROM {mart.name}").fetchall()
            out[mart.name] = sorted(rows, key=repr)
        else:
            out[mart.name] = None
    return out


def same_rows(a: list[tuple[Any, ...]] | None, b: list[tuple[Any, ...]] | None) -> bool:
    if a is None or b is None:
        return a is b
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        for va, vb in zip(ra, rb, strict=True):
            if isinstance(va, float) and isinstance(vb, float):
                if not math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif va != vb:
                return False
    return True


class Scratch:
    """A project folder and an open warehouse, loaded file by file through run_pipeline."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sp-marts-"))
        (self.root / "landing" / "pos").mkdir(parents=True)
        (self.root / "salespipe.yaml").write_text(ZONED_CONFIG, encoding="utf-8")
        self.config = load_config(str(self.root / "salespipe.yaml"))
        self.wh: DuckDBWarehouse = open_duckdb(self.root / "warehouse.duckdb")
        self.files = 0

    def load(self, files: list[list[dict[str, str]]]) -> None:
        """Load files as `salespipe run` does, then refresh incrementally (no data tests)."""
        source = self.config.sources[0]
        ctx = LoadContext(config=self.config, source=source, run_id=f"r{self.files}")
        for rows in files:
            path = self.root / "landing" / "pos" / f"{self.files:03d}.csv"
            write_file(path, rows)
            self.files += 1
            landed = next(f for f in discover_files(self.config, source) if f.name == path.name)
            assert load_file(self.wh, ctx, landed).status in ("loaded", "skipped")
        refresh_marts(self.wh.con)

    def run(self, files: list[list[dict[str, str]]]) -> str:
        """The whole pipeline: loads, refresh and data tests."""
        for rows in files:
            write_file(self.root / "landing" / "pos" / f"{self.files:03d}.csv", rows)
            self.files += 1
        return run_pipeline(self.config, warehouse=self.wh).run_id

    def close(self) -> None:
        self.wh.close()
        shutil.rmtree(self.root, ignore_errors=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=runs)
def test_incremental_refreshes_equal_a_full_rebuild(plan: list[list[list[dict[str, str]]]]) -> None:
    scratch = Scratch()
    try:
        for files in plan:
            scratch.load(files)
        con = scratch.wh.con
        assert con.execute("SELECT count(*) FROM mart_dirty").fetchall()[0][0] == 0
        checks = run_checks(con)
        assert checks.ok, [r.to_dict() for r in checks.failed]
        incremental = snapshot(con)
        refresh_marts(con, full=True)
        full = snapshot(con)
        for name in full:
            assert same_rows(incremental[name], full[name]), f"{name} differs from a full rebuild"
    finally:
        scratch.close()


def test_a_failed_refresh_keeps_the_dirty_keys_for_the_next_one() -> None:
    scratch = Scratch()
    try:
        day = {
            "transaction_id": "T1",
            "line_no": "1",
            "sold_at": "2025-01-03 09:00:00",
            "store_id": "S1",
            "region": "West",
            "product_id": "P1",
            "category": "Food",
            "subcategory": "",
            "quantity": "2",
            "unit_price": "2.50",
            "discount": "0",
            "unit_cost": "0.40",
            "customer_id": "C1",
            "customer_name": "Ann",
            "salesperson_id": "E1",
        }
        scratch.run([[day]])
        con = scratch.wh.con
        before = snapshot(con)
        # A late correction lands, but the refresh dies half-way (a mart whose SQL fails).
        write_file(scratch.root / "landing" / "pos" / "late.csv", [dict(day, quantity="5")])
        source = scratch.config.sources[0]
        ctx = LoadContext(config=scratch.config, source=source, run_id="r")
        for landed in discover_files(scratch.config, source):
            load_file(scratch.wh, ctx, landed)
        dirty = con.execute("SELECT count(*) FROM mart_dirty").fetchall()[0][0]
        assert dirty > 0
        broken = Mart(
            name="broken",
            description="fails",
            grain=("x",),
            columns=(BUILD_ORDER[0].columns[0].__class__("x", "INTEGER", "x"),),
            steps=(("final", "SELECT CAST(error('boom') AS INTEGER) AS x FROM {fact}"),),
            refresh=BUILD_ORDER[-1].refresh,
        )
        with pytest.raises(MartError, match="mart broken failed to refresh"):
            refresh_marts(con, marts=(*BUILD_ORDER[:3], broken))
        assert con.execute("SELECT count(*) FROM mart_dirty").fetchall()[0][0] == dirty
        assert same_rows(snapshot(con)["sales_daily"], before["sales_daily"])
        # The next refresh picks the keys up and ends where a full rebuild does.
        refresh_marts(con)
        assert con.execute("SELECT count(*) FROM mart_dirty").fetchall()[0][0] == 0
        incremental = snapshot(con)
        assert incremental["sales_daily"][0][2] == Decimal("12.50")  # the correction: 5 * 2.50
        refresh_marts(con, full=True)
        full = snapshot(con)
        assert all(same_rows(incremental[n], full[n]) for n in full)
    finally:
        scratch.close()


def test_a_changed_category_moves_every_month_of_the_product() -> None:
    scratch = Scratch()
    try:
        base = {
            "transaction_id": "T1",
            "line_no": "1",
            "sold_at": "2025-01-03 09:00:00",
            "store_id": "S1",
            "region": "West",
            "product_id": "P1",
            "category": "Food",
            "subcategory": "",
            "quantity": "1",
            "unit_price": "2.50",
            "discount": "0",
            "unit_cost": "0.40",
            "customer_id": "C1",
            "customer_name": "Ann",
            "salesperson_id": "E1",
        }
        scratch.run([[base, dict(base, transaction_id="T2", sold_at="2025-02-03 09:00:00")]])
        # A later file sells P1 in April under another category: January and February move too.
        run_id = scratch.run(
            [[dict(base, transaction_id="T3", sold_at="2025-04-03 09:00:00", category="Home")]]
        )
        rows = scratch.wh.con.execute(
            "SELECT month, category FROM sales_by_category ORDER BY month"
        ).fetchall()
        assert [str(c) for _, c in rows] == ["Home", "Home", "Home"]
        report = stored_report(scratch.wh.con, run_id)
        assert report is not None and report.ok
    finally:
        scratch.close()


def test_an_attribute_changed_by_a_duplicate_line_reaches_the_marts() -> None:
    # A re-sent line (identical content: counted duplicate, not inserted) still updates the
    # product's category; no key of it lands in mart_dirty, so the marts must notice alone.
    scratch = Scratch()
    try:
        base = {
            "transaction_id": "T1",
            "line_no": "1",
            "sold_at": "2025-01-03 09:00:00",
            "store_id": "S1",
            "region": "West",
            "product_id": "P1",
            "category": "Food",
            "subcategory": "",
            "quantity": "1",
            "unit_price": "2.50",
            "discount": "0",
            "unit_cost": "0.40",
            "customer_id": "C1",
            "customer_name": "Ann",
            "salesperson_id": "E1",
        }
        scratch.load([[base]])
        scratch.load([[dict(base, transaction_id="T2", category="Home")]])
        # the first line again, in a new file: a duplicate, but P1 is Food again
        other = dict(base, transaction_id="T3", product_id="P2", sold_at="2025-04-03 09:00:00")
        scratch.load([[base, other]])
        con = scratch.wh.con
        rows = con.execute(
            "SELECT DISTINCT category FROM top_products WHERE product_id = 'P1'"
        ).fetchall()
        assert rows == [("Food",)]
        incremental = snapshot(con)
        refresh_marts(con, full=True)
        assert all(same_rows(incremental[n], rows) for n, rows in snapshot(con).items())
    finally:
        scratch.close()


def test_a_day_of_midnights_gets_its_hours_when_a_timed_line_arrives() -> None:
    # The 3rd's only line sits at midnight (a date alone: hour null; S2 is in Kolkata, so
    # that is 18:30 UTC). A later file brings a sale at 09:00 that day: the day has times,
    # and the midnight line is a real hour 0 (the day is dirty, so the incremental refresh
    # reclassifies it).
    scratch = Scratch()
    try:
        base = {
            "transaction_id": "T1",
            "line_no": "1",
            "sold_at": "2025-01-03 00:00:00",
            "store_id": "S2",
            "region": "West",
            "product_id": "P1",
            "category": "Food",
            "subcategory": "",
            "quantity": "1",
            "unit_price": "2.50",
            "discount": "0",
            "unit_cost": "0.40",
            "customer_id": "C1",
            "customer_name": "Ann",
            "salesperson_id": "E1",
        }
        con = scratch.wh.con
        hours = "SELECT sale_date, hour, lines FROM sales_hourly ORDER BY 1, 2 NULLS FIRST"
        jan = {d: date(2025, 1, d) for d in (3, 4)}
        scratch.load([[base, dict(base, transaction_id="T0", sold_at="2025-01-04 10:00:00")]])
        assert con.execute(hours).fetchall() == [(jan[3], None, 1), (jan[4], 10, 1)]
        scratch.load([[dict(base, transaction_id="T2", sold_at="2025-01-03 09:00:00")]])
        report = con.execute(
            "SELECT mode FROM mart_refresh_log WHERE name = 'sales_hourly' ORDER BY refreshed_at"
        ).fetchall()
        assert report[-1] == ("incremental",)
        assert con.execute(hours).fetchall() == [(jan[3], 0, 1), (jan[3], 9, 1), (jan[4], 10, 1)]
        incremental = snapshot(con)
        refresh_marts(con, full=True)
        assert all(same_rows(incremental[n], rows) for n, rows in snapshot(con).items())
    finally:
        scratch.close()
