"""sales_hourly against an independent model of generated files, in each store's time zone.

Generated POS lines (New York, Chicago and Los Angeles stores, over the US switch to
summer time) and a source of daily totals with dates alone (Moscow shops) are loaded
in two runs; every row of the mart is recomputed here in plain Python, with zoneinfo
for the local hour, and compared exactly. The same files give the same rows on
PostgreSQL. A warehouse of dates alone skips the mart, with a note, until a line with
a time of day arrives.
"""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from salespipe.config import load_config
from salespipe.marts import get_mart, refresh_marts
from salespipe.warehouse import open_warehouse

from .conftest import Project
from .servers import create_database, postgres_server

STORE_ZONES = {"S02": "America/Chicago", "S03": "America/Los_Angeles"}
POS_ZONE = "America/New_York"
CONFIG = """\
warehouse: {warehouse}
timezone: UTC
currency: USD
sources:
  - name: pos
    landing: landing/pos
    pattern: "*.csv"
    timezone: America/New_York
    store_timezones: {{S02: America/Chicago, S03: America/Los_Angeles}}
    formats: {{sold_at: "%Y-%m-%d %H:%M:%S"}}
  - name: shops
    landing: landing/shops
    pattern: "*.csv"
    timezone: Europe/Moscow
    columns: {{sold_at: date, store_id: shop, product_id: item, quantity: count, unit_price: price}}
    formats: {{sold_at: "%d.%m.%Y"}}
    key: [sold_at, store_id, product_id]
"""
# Daily totals per shop and item: dates alone, no transaction id, a return as a negative count.
SHOP_ROWS = [
    {"date": "07.03.2025", "shop": "M1", "item": "P00001", "count": "3", "price": "10.50"},
    {"date": "07.03.2025", "shop": "M2", "item": "P00002", "count": "1", "price": "99.99"},
    {"date": "09.03.2025", "shop": "M1", "item": "P00001", "count": "-1", "price": "10.50"},
    {"date": "10.03.2025", "shop": "M1", "item": "P00003", "count": "2", "price": "4.25"},
]
MEASURES = ("net_sales", "gross_sales", "returns_value", "orders", "units_sold", "net_units")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from salespipe.generate import GenerateOptions, generate_sales

    out = tmp_path_factory.mktemp("hourly-data")
    generate_sales(
        GenerateOptions(out=out, days=5, start=date(2025, 3, 7), rows_per_day=300, stores=3, seed=7)
    )
    add_clock_change_lines(out)
    return out


def add_clock_change_lines(folder: Path) -> None:
    """Sales in the hour skipped on 9 March (02:xx does not exist that night in the US)."""
    with (folder / "sales_2025-03-07.csv").open(encoding="utf-8", newline="") as fh:
        template = next(csv.DictReader(fh))
    rows = [
        dict(template, transaction_id=f"DST{i}", line_no="1", store_id=store, sold_at=at)
        for i, (store, at) in enumerate(
            [("S01", "2025-03-09 02:30:00"), ("S02", "2025-03-09 02:05:00")]
        )
    ]
    with (folder / "sales_zz_clock_change.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(template))
        writer.writeheader()
        writer.writerows(rows)


def write_shops(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "shops.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SHOP_ROWS[0]))
        writer.writeheader()
        writer.writerows(SHOP_ROWS)


def setup_project(root: Path, warehouse: str) -> Project:
    project = Project(root)
    (root / "landing" / "pos").mkdir(parents=True)
    (root / "landing" / "shops").mkdir(parents=True)
    project.write_config(CONFIG.format(warehouse=warehouse))
    return project


def load_in_two_runs(project: Project, generated: Path) -> None:
    """Three days first (the marts are built), then the rest and the daily totals."""
    files = sorted(generated.glob("sales_*.csv"))
    for f in files[:3]:
        shutil.copy(f, project.landing)
    first = project.run()
    assert first["status"] == "ok" and first["checks"]["status"] == "pass", first["checks"]
    for f in files[3:]:
        shutil.copy(f, project.landing)
    write_shops(project.root / "landing" / "shops")
    second = project.run()
    assert second["status"] == "ok" and second["checks"]["status"] == "pass", second["checks"]
    every = first["files"] + second["files"]
    assert all(f["rows_loaded"] == f["rows_in"] for f in every), "every generated line loads"


# ---------------------------------------------------------------- the independent model


def local_hour(wall_clock: datetime, zone: str) -> int:
    """The hour the store's clock shows for a wall-clock time written in its zone.

    Through UTC and back, as the warehouse stores an instant: a time in the skipped hour
    of the switch to summer time (02:30 on 9 March) reads as 03:30.
    """
    tz = ZoneInfo(zone)
    return wall_clock.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).hour


def expected_rows(generated: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(generated.glob("sales_*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                assert row["currency"] == "USD"
                wall = datetime.strptime(row["sold_at"], "%Y-%m-%d %H:%M:%S")
                store = row["store_id"]
                hour = local_hour(wall, STORE_ZONES.get(store, POS_ZONE))
                groups[(wall.date(), store, hour)].append(
                    {
                        "tid": row["transaction_id"],
                        "qty": Decimal(row["quantity"]),
                        "revenue": Decimal(row["quantity"]) * Decimal(row["unit_price"])
                        - Decimal(row["discount"] or "0"),
                    }
                )
    for row in SHOP_ROWS:  # dates alone: no hour
        day = datetime.strptime(row["date"], "%d.%m.%Y").date()
        qty = Decimal(row["count"])
        groups[(day, row["shop"], None)].append(
            {"tid": None, "qty": qty, "revenue": qty * Decimal(row["price"])}
        )
    out = {}
    for key, lines in groups.items():
        sales = [ln for ln in lines if ln["qty"] > 0]
        with_tid = any(ln["tid"] for ln in lines)
        out[key] = {
            "day_of_week": key[0].isoweekday(),
            "net_sales": sum((ln["revenue"] for ln in lines), Decimal(0)),
            "gross_sales": sum((ln["revenue"] for ln in sales), Decimal(0)),
            "returns_value": -sum((ln["revenue"] for ln in lines if ln["qty"] < 0), Decimal(0)),
            "orders": len({ln["tid"] for ln in sales}) if with_tid else None,
            "units_sold": sum((ln["qty"] for ln in sales), Decimal(0)),
            "net_units": sum((ln["qty"] for ln in lines), Decimal(0)),
            "lines": len(lines),
        }
    return out


# ---------------------------------------------------------------- the warehouse side


def mart_table(project: Project) -> dict[tuple[Any, ...], dict[str, Any]]:
    grain = get_mart("sales_hourly").grain
    with open_warehouse(load_config(project.config), read_only=True) as wh:
        cursor = wh.con.execute("SELECT * FROM sales_hourly")
        names = [d[0] for d in cursor.description or []]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {tuple(r[g] for g in grain): r for r in rows}


def assert_equals_model(got: dict[tuple[Any, ...], dict[str, Any]], generated: Path) -> None:
    want = expected_rows(generated)
    assert set(got) == set(want)
    for key, row in want.items():
        for column, value in row.items():
            actual = got[key][column]
            assert actual == value and (actual is None) == (value is None), (
                f"{key} {column}: {actual!r} != {value!r}"
            )


def test_hours_equal_an_independent_model_in_each_stores_zone(
    tmp_path: Path, generated: Path
) -> None:
    project = setup_project(tmp_path, "duckdb:///warehouse.duckdb")
    load_in_two_runs(project, generated)
    got = mart_table(project)
    assert_equals_model(got, generated)
    # What the comparison covers: dates alone without an hour, the skipped hour of
    # 9 March read as 03:xx, hours from night to evening.
    assert {k[2] for k in got if k[1] == "M1"} == {None}
    march_9 = {k[1:] for k in got if k[0] == date(2025, 3, 9)}
    assert {("S01", 3), ("S02", 3)} <= march_9 and not {("S01", 2), ("S02", 2)} & march_9
    assert {k[2] for k in got if k[1] in ("S01", "S02", "S03")} >= {0, 3, 9, 12, 18, 23}
    # the incremental refresh of the second run ends where a full rebuild does
    with open_warehouse(load_config(project.config)) as wh:
        refresh_marts(wh.con, full=True)
    assert mart_table(project) == got


def test_the_same_hours_on_postgres(
    tmp_path_factory: pytest.TempPathFactory, generated: Path, pg_server: str
) -> None:
    url = create_database(pg_server, "sp_hourly")
    project = setup_project(tmp_path_factory.mktemp("hourly-pg"), url)
    load_in_two_runs(project, generated)
    assert_equals_model(mart_table(project), generated)


def test_a_warehouse_of_dates_alone_skips_the_mart_until_a_time_arrives(
    tmp_path: Path, generated: Path
) -> None:
    project = setup_project(tmp_path, "duckdb:///warehouse.duckdb")
    write_shops(project.root / "landing" / "shops")
    assert project.run()["checks"]["status"] == "pass"
    marts = {m["name"]: m for m in project.cli("marts", "list", "--json").json()}
    hourly = marts["sales_hourly"]
    assert hourly["status"] == "skipped"
    assert "time of day" in hourly["note"] and "sold_at" in hourly["note"]
    assert marts["sales_daily"]["status"] == "built"
    shown = project.cli("marts", "show", "sales_hourly")
    assert shown.code == 2 and "time of day" in shown.stderr
    # a file with times: the mart is built, the earlier dates alone keep no hour
    first_day = sorted(generated.glob("sales_*.csv"))[0]
    shutil.copy(first_day, project.landing)
    assert project.run()["checks"]["status"] == "pass"
    got = mart_table(project)
    assert {k[2] for k in got if k[1] in ("M1", "M2")} == {None}
    assert all(k[2] is not None for k in got if k[1] not in ("M1", "M2"))
    # the data test: hours that no longer add up to their day are found, with the day
    with open_warehouse(load_config(project.config)) as wh:
        wh.con.execute("UPDATE sales_hourly SET net_sales = net_sales + 0.01 WHERE hour = 12")
    check = project.cli("check", "--json")
    assert check.code == 1
    failed = {r["name"]: r for r in check.json()["results"] if r["status"] == "fail"}
    assert list(failed) == ["sales_hourly: totals = sales_daily"]
    assert {r["sale_date"] for r in failed["sales_hourly: totals = sales_daily"]["rows"]} == {
        "2025-03-07"
    }


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


TWO_SOURCES = """\
warehouse: duckdb:///warehouse.duckdb
timezone: UTC
sources:
  - name: till
    landing: landing/till
    pattern: "*.csv"
    formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
  - name: web
    landing: landing/web
    pattern: "*.csv"
    store_timezones: {S02: America/Chicago}
    formats: {sold_at: "%Y-%m-%dT%H:%M:%S%z"}
"""


@pytest.mark.parametrize("order", [("till", "web"), ("web", "till")])
def test_two_sources_that_disagree_on_a_stores_zone_each_keep_their_hours(
    project: Project, order: tuple[str, str]
) -> None:
    """The till reads store S02's times in UTC, the web shop in Chicago time: each line's
    hour is read in the zone that made its business day, whichever source loaded last."""
    from .conftest import line

    project.write_config(TWO_SOURCES)
    files = {
        # 07:00 and 23:30 UTC, on the till's clock
        "till": [
            line("T1", 1, store="S02", sold_at="2025-03-01 07:00:00"),
            line("T2", 1, store="S02", sold_at="2025-03-01 23:30:00", price="5.00"),
        ],
        # 21:30 Chicago on Feb 28 (03:30 UTC on Mar 1), 00:00:30 Chicago on Mar 1
        "web": [
            line("W1", 1, store="S02", sold_at="2025-03-01T03:30:00+00:00", price="7.00"),
            line("W2", 1, store="S02", sold_at="2025-03-01T00:00:30-06:00", price="3.00"),
        ],
    }
    for name in ("till", "web"):
        (project.root / "landing" / name).mkdir(parents=True)
    for name in order:
        project.write_csv(f"{name}.csv", files[name], folder=project.root / "landing" / name)
        assert project.cli("run", "--json").code == 0
    rows = project.cli("marts", "show", "sales_hourly", "--json", "--limit", "0").json()
    got = sorted((r["sale_date"], r["hour"], Decimal(str(r["net_sales"]))) for r in rows["data"])
    assert got == [
        ("2025-02-28", 21, Decimal("7.00")),
        ("2025-03-01", 0, Decimal("3.00")),
        ("2025-03-01", 7, Decimal("10.00")),
        ("2025-03-01", 23, Decimal("5.00")),
    ]
