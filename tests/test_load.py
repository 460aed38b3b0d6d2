"""Loading through the CLI on real files: validation, quarantine, reconciliation, exactly-once."""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from .conftest import Project, cli_process, line


def reconciles(f: dict[str, Any]) -> bool:
    return bool(
        f["rows_in"]
        == f["rows_loaded"] + f["rows_updated"] + f["rows_quarantined"] + f["rows_duplicate"]
    )


def test_every_reason_code(project: Project) -> None:
    project.write_config(
        project.config.read_text() + '    rules:\n      - {name: cap, check: "unit_price < 1000"}\n'
    )
    project.write_csv(
        "d1.csv",
        [
            line("T1", 1),
            line("T2", 1, sold_at="2025-02-30 10:00:00"),
            line("T3", 1, quantity="1,5x"),
            line("T4", 1, product=""),
            line("T5", 1, price="-1"),
            line("T6", 1, quantity="0"),
            line("T7", 1, discount="50"),
            line("T8", 1, cost="-2"),
            line("T1", 1),
            line("T9", 1, price="5000"),
            line("T10", 1, sold_at=""),
        ],
    )
    data = project.run()
    f = data["files"][0]
    assert f["status"] == "loaded"
    assert f["rows_in"] == 11 and f["rows_loaded"] == 1 and f["rows_quarantined"] == 10
    assert reconciles(f)
    assert f["reasons"] == {
        "bad_timestamp": 1,
        "bad_number": 1,
        "missing_value:product_id": 1,
        "negative_price": 1,
        "zero_quantity": 1,
        "discount_exceeds_amount": 1,
        "negative_cost": 1,
        "duplicate_key": 1,
        "rule:cap": 1,
        "missing_value:sold_at": 1,
    }
    rows = project.cli("quarantine", "list", "--json").json()
    by_line = {r["line"]: r for r in rows}
    assert by_line[3]["reasons"] == ["bad_timestamp"]
    assert by_line[3]["raw"]["sold_at"] == "2025-02-30 10:00:00"
    assert by_line[10]["reasons"] == ["duplicate_key"]
    assert all(r["file"].endswith("d1.csv") for r in rows)


def test_row_with_several_defects_lists_all(project: Project) -> None:
    project.write_csv("d1.csv", [line("T1", 1, quantity="0", price="-3", cost="-1")])
    f = project.run()["files"][0]
    assert f["rows_quarantined"] == 1
    rows = project.cli("quarantine", "list", "--json").json()
    assert set(rows[0]["reasons"]) == {"zero_quantity", "negative_price", "negative_cost"}


def test_missing_required_column_rejects_whole_file(project: Project) -> None:
    path = project.write_csv(
        "d1.csv",
        [line("T1", 1)],
        header=["transaction_id", "line_no", "sold_at", "store_id", "quantity", "unit_price"],
    )
    result = project.cli("run", "--json")
    assert result.code == 1
    f = result.json()["files"][0]
    assert f["status"] == "rejected"
    assert "missing_column:product_id" in f["error"]
    assert f["rows_loaded"] == 0
    assert project.kpis()["lines"] == 0
    assert path.exists()


def test_extra_columns_recorded_as_drift(project: Project) -> None:
    from .conftest import HEADER

    project.write_csv("d1.csv", [line("T1", 1, promo="X")], header=[*HEADER, "promo"])
    f = project.run()["files"][0]
    assert f["status"] == "loaded" and f["unused_columns"] == ["promo"]


def test_same_bytes_under_another_name_load_nothing(project: Project) -> None:
    path = project.write_csv("d1.csv", [line("T1", 1), line("T2", 1)])
    shutil.copy(path, project.landing / "copy_of_d1.csv")
    data = project.run()
    statuses = sorted(f["status"] for f in data["files"])
    assert statuses == ["loaded", "skipped"]
    assert project.kpis()["lines"] == 2
    again = project.run()
    assert {f["status"] for f in again["files"]} == {"skipped"}
    assert project.kpis()["net_sales"] == 20


def test_upsert_late_correction_and_duplicates(project: Project) -> None:
    project.write_csv("d1.csv", [line("T1", 1), line("T1", 2, price="5.00")])
    project.run()
    project.write_csv("d2.csv", [line("T1", 1), line("T1", 2, price="7.50"), line("T2", 1)])
    f = project.run()["files"][-1]
    assert (f["rows_in"], f["rows_loaded"], f["rows_updated"], f["rows_duplicate"]) == (3, 1, 1, 1)
    assert reconciles(f)
    k = project.kpis()
    assert Decimal(str(k["net_sales"])) == Decimal("27.50")
    assert k["lines"] == 3


def test_kpis_exact(project: Project) -> None:
    project.write_csv(
        "d1.csv",
        [
            line("T1", 1, quantity="3", price="0.10", discount="0.01", cost="0.05"),
            line("T1", 2, quantity="1", price="19.99"),
            line("T2", 1, quantity="-1", price="19.99", store="S2"),
            line("T3", 1, quantity="2", price="1234.5678", sold_at="2025-01-02 09:00:00"),
        ],
    )
    project.run()
    k = project.kpis()
    gross = (
        Decimal("3") * Decimal("0.10")
        - Decimal("0.01")
        + Decimal("19.99")
        + 2 * Decimal("1234.5678")
    )
    assert Decimal(str(k["gross_sales"])) == gross.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(str(k["returns_value"])) == Decimal("19.99")
    assert Decimal(str(k["net_sales"])) == (gross - Decimal("19.99")).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert k["orders"] == 2
    assert k["units_sold"] == 6 and k["net_units"] == 5
    assert k["active_stores"] == 2
    assert Decimal(str(k["average_order_value"])) == (gross / 2).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    one_day = project.kpis("--from", "2025-01-02", "--to", "2025-01-02")
    assert one_day["orders"] == 1 and one_day["from"] == "2025-01-02"
    s2 = project.kpis("--store", "S2")
    assert Decimal(str(s2["net_sales"])) == Decimal("-19.99")


def test_store_time_zone_decides_business_day(project: Project) -> None:
    project.write_config(
        project.config.read_text().replace(
            'formats: {sold_at: "%Y-%m-%d %H:%M:%S"}',
            "store_timezones: {NY: America/New_York}",
        )
    )
    project.write_csv(
        "d1.csv",
        [
            line("T1", 1, sold_at="2025-01-01 23:30:00", store="NY"),
            line("T2", 1, sold_at="2025-01-02T03:30:00Z", store="NY"),
            line("T3", 1, sold_at="2025-01-02 00:30:00+01:00", store="PA"),
        ],
    )
    project.run()
    con = duckdb.connect(str(project.root / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone='UTC'")
    rows = con.execute(
        "SELECT transaction_id, sale_date::VARCHAR, sold_at::VARCHAR FROM fact_sales ORDER BY 1"
    ).fetchall()
    con.close()
    assert rows == [
        ("T1", "2025-01-01", "2025-01-02 04:30:00+00"),
        ("T2", "2025-01-01", "2025-01-02 03:30:00+00"),
        ("T3", "2025-01-01", "2025-01-01 23:30:00+00"),
    ]


def test_archive_and_failed_folders(project: Project) -> None:
    project.write_config(project.config.read_text() + "    archive: processed/\n")
    project.write_csv("good.csv", [line("T1", 1)])
    project.write_csv("bad.csv", [line("T1", 1)], header=["transaction_id", "sold_at"])
    result = project.cli("run", "--json")
    assert result.code == 1
    assert (project.landing / "processed" / "good.csv").exists()
    assert (project.landing / "failed" / "bad.csv").exists()
    report = (project.landing / "failed" / "bad.csv.error.json").read_text()
    assert "missing_column" in report
    assert list(project.landing.glob("*.csv")) == []


def test_replay_after_fixing_contract(project: Project) -> None:
    project.write_csv(
        "d1.csv",
        [
            line("T1", 1),
            line("T2", 1, sold_at="01.02.2025 10:00"),
            line("T3", 1, sold_at="garbage"),
        ],
    )
    f = project.run()["files"][0]
    assert f["rows_quarantined"] == 2
    project.write_config(
        project.config.read_text().replace(
            'formats: {sold_at: "%Y-%m-%d %H:%M:%S"}',
            'formats: {sold_at: ["%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M"]}',
        )
    )
    replay = project.cli("quarantine", "replay", "--json").json()
    r = replay["files"][0]
    assert (r["rows_in"], r["rows_loaded"], r["rows_quarantined"]) == (2, 1, 1)
    assert project.kpis()["lines"] == 2
    open_rows = project.cli("quarantine", "list", "--json").json()
    assert [row["raw"]["sold_at"] for row in open_rows] == ["garbage"]
    again = project.cli("quarantine", "replay", "--json").json()
    assert again["totals"]["rows_loaded"] == 0
    assert project.kpis()["lines"] == 2
    # a replay where nothing passes records no ledger entry: the row keeps its own
    (noop,) = again["files"]
    assert noop["status"] == "skipped" and "1 still fail: bad_timestamp: 1" in noop["error"]
    files = project.cli("status", "--json").json()["files"]
    assert sum(1 for f in files if f["uri"].startswith("replay:")) == 1
    text = project.cli("quarantine", "replay")
    assert text.code == 0 and "still fail" in text.stdout + text.stderr


def test_quarantine_export(project: Project) -> None:
    project.write_csv("d1.csv", [line("T1", 1, quantity="x")])
    project.run()
    out = project.root / "q.csv"
    assert project.cli("quarantine", "export", "--out", out).code == 0
    text = out.read_text()
    assert "bad_number" in text and "T1" in text


def test_status_json(project: Project) -> None:
    project.write_csv("d1.csv", [line("T1", 1), line("T2", 1, quantity="0")])
    project.run()
    status = project.cli("status", "--json").json()
    assert status["fact_rows"] == 1
    assert status["files"][0]["reconciles"] is True
    assert status["files"][0]["rows_quarantined"] == 1


def test_no_warehouse_yet_is_a_clear_error(project: Project) -> None:
    result = cli_process("--config", project.config, "kpi")
    assert result.code == 1
    assert "no warehouse" in result.stderr and "salespipe run" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_landing_folder(project: Project) -> None:
    shutil.rmtree(project.landing)
    result = cli_process("--config", project.config, "run")
    assert result.code == 2
    assert "does not exist" in result.stderr and "mkdir" in result.stderr


def test_bad_expression_is_named(project: Project) -> None:
    project.write_config(
        project.config.read_text() + '    columns: {store_id: {expr: "upper(shop)"}}\n'
    )
    project.write_csv("d1.csv", [line("T1", 1)])
    result = project.cli("run", "--json")
    assert result.code == 1
    f = result.json()["files"][0]
    assert (
        f["status"] == "rejected"
        and "missing_column:store_id" in f["error"]
        and "'shop'" in f["error"]
    )


def test_fallback_key_allows_blank_optional_fields(project: Project) -> None:
    header = ["sold_at", "product_id", "quantity", "unit_price", "customer_id"]
    rows = [
        {
            "sold_at": "2025-01-01 10:00:00",
            "product_id": "P1",
            "quantity": "1",
            "unit_price": "2.00",
        },
        {
            "sold_at": "2025-01-01 10:00:00",
            "product_id": "P1",
            "quantity": "1",
            "unit_price": "2.00",
            "customer_id": "C9",
        },
    ]
    project.write_csv("d1.csv", rows, header=header)
    f = project.run()["files"][0]
    assert (f["rows_loaded"], f["rows_quarantined"]) == (2, 0)


def test_window_expression_keeps_quarantine_lines_right(project: Project) -> None:
    project.write_config(
        project.config.read_text()
        + (
            "    columns:\n"
            '      line_no: {expr: "row_number() OVER (PARTITION BY transaction_id ORDER BY product_id)"}\n'
        )
    )
    header = ["transaction_id", "sold_at", "product_id", "quantity", "unit_price"]
    rows = [
        {
            "transaction_id": "T2",
            "sold_at": "2025-01-01 10:00:00",
            "product_id": "b",
            "quantity": "1",
            "unit_price": "1",
        },
        {
            "transaction_id": "T1",
            "sold_at": "2025-01-01 10:00:00",
            "product_id": "a",
            "quantity": "1",
            "unit_price": "1",
        },
        {
            "transaction_id": "T2",
            "sold_at": "2025-01-01 10:00:00",
            "product_id": "c",
            "quantity": "1",
            "unit_price": "oops",
        },
        {
            "transaction_id": "T1",
            "sold_at": "2025-01-01 10:00:00",
            "product_id": "d",
            "quantity": "1",
            "unit_price": "1",
        },
    ]
    project.write_csv("d1.csv", rows, header=header)
    project.run()
    q = project.cli("quarantine", "list", "--json").json()
    assert [(r["line"], r["raw"]["product_id"]) for r in q] == [(4, "c")]
