"""Data tests: they pass on loaded data, and fail, showing the offending rows, when a mart
or the fact is corrupted on purpose."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from .conftest import Project, line


@pytest.fixture
def loaded(project: Project) -> Project:
    project.write_csv(
        "d1.csv",
        [
            line("T1", 1, sold_at="2025-01-05 10:00:00"),
            line("T2", 1, sold_at="2025-01-06 10:00:00", store="S2", customer="C2"),
            line("T3", 1, sold_at="2025-02-01 10:00:00", product="P2", quantity="-1"),
        ],
    )
    data = project.run()
    assert data["checks"]["status"] == "pass"
    return project


def corrupt(project: Project, sql: str) -> None:
    with duckdb.connect(str(project.root / "warehouse.duckdb")) as con:
        con.execute(sql)


def failed(checks: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in checks["results"] if r["status"] == "fail"}


def test_run_reports_checks_and_stores_them_per_run(loaded: Project) -> None:
    result = loaded.cli("check", "--json")
    assert result.code == 0
    checks = result.json()
    assert checks["status"] == "pass" and checks["failed"] == 0
    kinds = {r["kind"] for r in checks["results"]}
    assert {"unique", "not_null", "accepted", "relationship", "reconcile"} <= kinds
    with duckdb.connect(str(loaded.root / "warehouse.duckdb"), read_only=True) as con:
        runs = con.execute("SELECT count(DISTINCT run_id) FROM check_results").fetchall()[0][0]
    assert runs == 2  # the load's run and the check's run


def test_a_duplicated_mart_row_fails_unique_and_reconciliation(loaded: Project) -> None:
    corrupt(
        loaded,
        "INSERT INTO sales_daily SELECT * FROM sales_daily WHERE sale_date = DATE '2025-01-05'",
    )
    result = loaded.cli("check", "--json")
    assert result.code == 1
    bad = failed(result.json())
    unique = bad["sales_daily: unique (sale_date, store_id)"]
    assert unique["failures"] == 1
    assert unique["rows"] == [{"sale_date": "2025-01-05", "store_id": "S1", "copies": 2}]
    totals = bad["sales_daily: totals = fact"]
    # the breakdown names the day where mart and fact disagree
    assert [r["period"] for r in totals["rows"]] == ["2025-01-05"]
    assert totals["rows"][0]["mart_net_sales"] == "20"
    assert totals["rows"][0]["fact_net_sales"] == "10"


def test_a_changed_amount_breaks_reconciliation_to_the_cent(loaded: Project) -> None:
    corrupt(
        loaded,
        "UPDATE sales_monthly SET net_sales = net_sales + 0.01 WHERE month = DATE '2025-02-01'",
    )
    bad = failed(loaded.cli("check", "--json").json())
    assert list(bad) == ["sales_monthly: totals = fact"]
    assert bad["sales_monthly: totals = fact"]["rows"][0]["period"] == "2025-02-01"


def test_rfm_monetary_must_equal_customer_revenue(loaded: Project) -> None:
    corrupt(loaded, "UPDATE customer_rfm SET monetary = monetary + 1 WHERE customer_id = 'C2'")
    bad = failed(loaded.cli("check", "--json").json())
    rows = bad["customer_rfm: monetary = customer revenue"]["rows"]
    assert rows == [{"customer_id": "C2", "mart_monetary": "11", "fact_revenue": "10"}]


def test_null_key_range_and_orphan_are_each_reported(loaded: Project) -> None:
    corrupt(loaded, "UPDATE top_products SET revenue_rank = 0 WHERE product_id = 'P1'")
    corrupt(loaded, "UPDATE sales_by_store SET store_id = 'S404' WHERE store_id = 'S2'")
    corrupt(loaded, "UPDATE returns_summary SET units_sold = NULL WHERE product_id = 'P2'")
    bad = failed(loaded.cli("check", "--json").json())
    assert bad["top_products: accepted values"]["rows"][0]["out_of_bounds"] == "revenue_rank"
    assert bad["sales_by_store: store_id -> dim_store"]["rows"] == [{"store_id": "S404"}]
    assert bad["returns_summary: not null"]["rows"][0]["null_columns"] == "units_sold"


def test_fact_tests_catch_orphan_lines(loaded: Project) -> None:
    corrupt(loaded, "DELETE FROM dim_product WHERE product_id = 'P2'")
    bad = failed(loaded.cli("check", "--json").json())
    assert bad["fact_sales: product_id -> dim_product"]["rows"] == [{"product_id": "P2"}]
    assert bad["product_abc: product_id -> dim_product"]["failures"] == 1


def test_a_failed_check_makes_run_exit_1_and_shows_the_rows(loaded: Project) -> None:
    corrupt(loaded, "INSERT INTO dim_store (store_id) VALUES ('S9')")
    corrupt(loaded, "UPDATE sales_by_store SET net_sales = 0 WHERE store_id = 'S1'")
    loaded.write_csv("d2.csv", [line("T9", 1, sold_at="2025-02-03 10:00:00", store="S2")])
    result = loaded.cli("run", "--json")
    assert result.code == 1
    data = result.json()
    assert data["status"] == "ok"  # the file loaded fine; the marts are wrong
    assert data["checks"]["status"] == "fail"
    bad = failed(data["checks"])
    assert "sales_by_store: totals = fact" in bad
    human = loaded.cli("run")  # nothing new to load: no refresh, no checks, exit 0
    assert human.code == 0
    loaded.write_csv("d3.csv", [line("T10", 1, sold_at="2025-02-04 10:00:00", store="S2")])
    human = loaded.cli("run")
    assert human.code == 1
    assert "sales_by_store: totals = fact" in human.stderr
    assert "period=2025-01-01" in human.stderr


def test_skipped_marts_are_reported_as_skipped(loaded: Project) -> None:
    checks = loaded.cli("check", "--json").json()
    skipped = {r["name"]: r for r in checks["results"] if r["status"] == "skipped"}
    assert "salesperson_id" in skipped["salesperson_monthly"]["message"]
