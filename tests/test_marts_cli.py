"""The marts through the CLI: list, show, refresh, export (CSV, XLSX, Parquet, lake), kpi --compare."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from .conftest import Project, line


@pytest.fixture
def loaded(project: Project) -> Project:
    return _load(project)


@pytest.fixture
def loaded_any(engine_project: Project) -> Project:
    """`loaded` on each engine: exports are written here by DuckDB, also from PostgreSQL."""
    return _load(engine_project)


def _load(project: Project) -> Project:
    project.write_csv(
        "d1.csv",
        [
            line("Y1", 1, sold_at="2024-03-10 10:00:00", price="100.00"),
            line("F1", 1, sold_at="2025-02-10 10:00:00", price="50.00", store="S2"),
            line("F2", 1, sold_at="2025-02-28 10:00:00", price="7.00"),
            line("M1", 1, sold_at="2025-03-05 10:00:00", price="30.00", customer="C2"),
            line("M2", 1, sold_at="2025-03-30 10:00:00", price="20.00", discount="0.005"),
        ],
    )
    assert project.run()["checks"]["status"] == "pass"
    return project


def test_list_shows_state_and_skipped_marts(loaded: Project) -> None:
    marts = {m["name"]: m for m in loaded.cli("marts", "list", "--json").json()}
    assert len(marts) == 17
    assert marts["sales_daily"]["status"] == "built" and marts["sales_daily"]["rows"] == 5
    assert marts["salesperson_monthly"]["status"] == "skipped"
    assert "salesperson_id" in marts["salesperson_monthly"]["note"]
    shown = loaded.cli("marts", "show", "salesperson_monthly")
    assert shown.code == 2 and "skipped" in shown.stderr


def test_show_rounds_money_to_cents_only_at_output(loaded: Project) -> None:
    out = loaded.cli("marts", "show", "sales_daily", "--json", "--limit", "2").json()
    assert out["rows"] == 5 and len(out["data"]) == 2
    last = loaded.cli("marts", "show", "sales_daily", "--json", "--limit", "0").json()["data"][-1]
    assert last["sale_date"] == "2025-03-30" and last["net_sales"] == 20  # 19.995, half up
    with duckdb.connect(str(loaded.root / "warehouse.duckdb"), read_only=True) as con:
        exact = con.execute("SELECT net_sales FROM sales_daily WHERE sale_date = '2025-03-30'")
        assert exact.fetchall()[0][0] == Decimal("19.995")
    assert loaded.cli("marts", "show", "nope").code == 2


def test_refresh_full_rebuilds_everything(loaded: Project) -> None:
    result = loaded.cli("marts", "refresh", "--full", "--json")
    assert result.code == 0
    data = result.json()
    modes = {m["name"]: m["mode"] for m in data["refresh"]["marts"]}
    assert modes["sales_daily"] == "full" and modes["salesperson_monthly"] == "skipped"
    assert data["checks"]["status"] == "pass"
    again = loaded.cli("marts", "refresh", "--json").json()
    assert {m["mode"] for m in again["refresh"]["marts"]} <= {"unchanged", "skipped"}


def test_csv_export_with_bom_opens_in_excel(loaded_any: Project, tmp_path: Path) -> None:
    out = tmp_path / "daily.csv"
    assert (
        loaded_any.cli("export", "sales_daily", "--format", "csv", "--out", out, "--bom").code == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 5 and rows[0]["sale_date"] == "2024-03-10"
    assert rows[-1]["net_sales"] == "20.00"  # 19.995 rounded half away from zero
    assert rows[0]["net_sales"] == "100.00"
    plain = tmp_path / "plain.csv"
    loaded_any.cli("export", "sales_daily", "--format", "csv", "--out", plain)
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_export_has_typed_cells(loaded_any: Project, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "monthly.xlsx"
    assert loaded_any.cli("export", "sales_monthly", "--format", "xlsx", "--out", out).code == 0
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    first = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert (
        isinstance(first["month"].value, datetime) and first["month"].number_format == "yyyy-mm-dd"
    )
    assert first["net_sales"].value == 100 and first["net_sales"].number_format == "#,##0.00"
    assert first["orders"].value == 1 and first["mom_pct"].value is None


def test_parquet_export_keeps_cents_as_decimals(loaded_any: Project, tmp_path: Path) -> None:
    out = tmp_path / "store.parquet"
    assert loaded_any.cli("export", "sales_by_store", "--format", "parquet", "--out", out).code == 0
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT month, store_id, net_sales FROM '{out}' ORDER BY 1, 2"
        ).fetchall()
    assert rows[0] == (date(2024, 3, 1), "S1", Decimal("100.00"))
    assert len(rows) == 4


def test_lake_export_is_hive_partitioned(loaded_any: Project, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    assert loaded_any.cli("export", "--lake", lake).code == 0
    assert (lake / "fact_sales" / "store_id=S2" / "month=2025-02").is_dir()
    assert (lake / "sales_daily" / "store_id=S1" / "month=2025-03").is_dir()
    assert (lake / "product_abc" / "data_0.parquet").is_file()
    assert not (lake / "salesperson_monthly").exists()
    with duckdb.connect() as con:
        total = con.execute(
            f"SELECT sum(line_revenue), count(*) FROM read_parquet('{lake}/fact_sales/**/*.parquet', "
            "hive_partitioning = true) WHERE month = '2025-03'"
        ).fetchall()[0]
    assert total == (Decimal("49.995"), 2)
    # exporting again replaces the folder; one mart alone is allowed too
    assert loaded_any.cli("export", "sales_monthly", "--lake", lake).code == 0
    assert loaded_any.cli("export", "sales_daily", "--format", "csv").code == 2


def test_kpi_compare_previous_mtd_yoy(loaded: Project) -> None:
    plain = loaded.kpis("--from", "2025-03-01", "--to", "2025-03-30")
    out = loaded.kpis("--from", "2025-03-01", "--to", "2025-03-30", "--compare", "all")
    assert {k: v for k, v in out.items() if k != "comparison"} == plain
    cmp = out["comparison"]
    # previous: 30 days before 1 March = 30 January .. 28 February
    assert (cmp["previous"]["previous"]["from"], cmp["previous"]["previous"]["to"]) == (
        "2025-01-30",
        "2025-02-28",
    )
    assert cmp["previous"]["previous"]["net_sales"] == 57
    assert cmp["previous"]["change"]["net_sales"] == -7.01  # 49.995 - 57 -> -7.005
    assert cmp["previous"]["change_pct"]["net_sales"] == round(100 * -7.005 / 57, 2)
    # month to date as of 30 March vs 1..28 February (clamped)
    assert (
        cmp["mtd"]["previous"]["to"] == "2025-02-28"
        and cmp["mtd"]["current"]["from"] == "2025-03-01"
    )
    # year over year: March 2024
    assert (
        cmp["yoy"]["previous"]["net_sales"] == 100
        and cmp["yoy"]["previous"]["from"] == "2024-03-01"
    )
    one = loaded.kpis("--compare", "yoy")
    assert list(one["comparison"]) == ["yoy"]
    assert loaded.cli("kpi", "--compare", "weekly").code == 2
    human = loaded.cli("kpi", "--compare", "mtd")
    assert human.code == 0 and "month to date" in human.stdout


def test_quarantine_replay_refreshes_the_marts(project: Project) -> None:
    project.write_config(
        project.config.read_text() + '    rules:\n      - {name: cap, check: "unit_price < 50"}\n'
    )
    project.write_csv(
        "d1.csv", [line("T1", 1, price="10.00"), line("T2", 1, price="80.00", store="S2")]
    )
    assert project.run()["files"][0]["rows_quarantined"] == 1
    project.write_config(project.config.read_text().replace("unit_price < 50", "unit_price < 100"))
    assert project.cli("quarantine", "replay", "--json").code == 0
    daily = project.cli("marts", "show", "sales_daily", "--json").json()["data"]
    assert {(r["store_id"], r["net_sales"]) for r in daily} == {("S1", 10), ("S2", 80)}
