"""Every error a user can trigger with bad config or bad files: one clear line, no traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from .conftest import Project, cli_process, line


def add_source_keys(project: Project, text: str) -> None:
    project.write_config(project.config.read_text() + text)


def first_file(project: Project) -> dict[str, object]:
    result = project.cli("run", "--json")
    files: list[dict[str, object]] = result.json()["files"]
    return files[0]


def test_lookup_file_missing(project: Project) -> None:
    add_source_keys(project, "    lookups:\n      - {file: ref/items.csv, on: product_id}\n")
    project.write_csv("d.csv", [line("T1", 1)])
    f = first_file(project)
    assert f["status"] == "rejected"
    assert "lookup file" in str(f["error"]) and "not found" in str(f["error"])


def test_lookup_with_repeated_keys(project: Project) -> None:
    add_source_keys(project, "    lookups:\n      - {file: ref/items.csv, on: product_id}\n")
    (project.root / "ref").mkdir()
    (project.root / "ref" / "items.csv").write_text("product_id,brand\nP1,A\nP1,B\n")
    project.write_csv("d.csv", [line("T1", 1)])
    f = first_file(project)
    assert "repeats the key" in str(f["error"]) and "deduplicate" in str(f["hint"])


def test_lookup_column_clash_suggests_prefix(project: Project) -> None:
    add_source_keys(project, "    lookups:\n      - {file: ref/items.csv, on: product_id}\n")
    (project.root / "ref").mkdir()
    (project.root / "ref" / "items.csv").write_text("product_id,category\nP1,A\n")
    project.write_csv("d.csv", [line("T1", 1)])
    f = first_file(project)
    assert "already exists" in str(f["error"]) and "prefix" in str(f["hint"])


def test_lookup_joins_and_chains(project: Project) -> None:
    add_source_keys(
        project,
        (
            '    columns: {category: {expr: "coalesce(cat_label, category)"}}\n'
            "    lookups:\n"
            "      - {file: ref/items.csv, on: product_id}\n"
            "      - {file: ref/labels.csv, on: {cat_code: code}, prefix: cat_}\n"
        ),
    )
    (project.root / "ref").mkdir()
    (project.root / "ref" / "items.csv").write_text("product_id,cat_code\nP1,X\nP2,Y\n")
    (project.root / "ref" / "labels.csv").write_text("code,label\nX,Fruit\nY,Veg\n")
    project.write_csv(
        "d.csv", [line("T1", 1), line("T2", 1, product="P2"), line("T3", 1, product="P3")]
    )
    assert first_file(project)["rows_loaded"] == 3
    assert Decimal(str(project.kpis("--category", "Fruit")["net_sales"])) == Decimal("10")
    assert Decimal(str(project.kpis("--category", "Veg")["net_sales"])) == Decimal("10")
    assert Decimal(str(project.kpis("--category", "Cat")["net_sales"])) == Decimal("10")


def test_unknown_encoding(project: Project) -> None:
    add_source_keys(project, "    options: {encoding: klingon}\n")
    project.write_csv("d.csv", [line("T1", 1)])
    f = first_file(project)
    assert "unknown encoding 'klingon'" in str(f["error"])


def test_not_a_parquet_file(project: Project) -> None:
    add_source_keys(project, "    format: parquet\n")
    (project.landing / "d.csv").write_text("this is not parquet")
    f = first_file(project)
    assert f["status"] == "rejected" and "Parquet" in str(f["error"])


def test_not_an_excel_file(project: Project) -> None:
    add_source_keys(project, "    format: xlsx\n")
    (project.landing / "d.csv").write_text("this is not excel")
    f = first_file(project)
    assert f["status"] == "rejected" and "Excel" in str(f["error"])


def test_bad_rule_sql(project: Project) -> None:
    add_source_keys(project, '    rules:\n      - {name: broken, check: "unit_price <"}\n')
    project.write_csv("d.csv", [line("T1", 1)])
    # SQL that does not parse is a config error: found when the config loads, no file touched
    result = project.cli("run", "--json")
    assert result.code == 2 and "rules" in result.stderr and "check" in result.stderr
    assert "Traceback" not in result.stderr
    assert (project.landing / "d.csv").exists()


def test_rule_on_unknown_field(project: Project) -> None:
    add_source_keys(project, '    rules:\n      - {name: typo, check: "unit_prize > 0"}\n')
    project.write_csv("d.csv", [line("T1", 1)])
    f = first_file(project)
    assert f["status"] == "rejected" and "unit_prize" in str(f["error"])


def test_unknown_source(project: Project) -> None:
    result = cli_process("--config", project.config, "run", "--source", "web")
    assert result.code == 2 and "no source named 'web'" in result.stderr and "pos" in result.stderr


def test_bad_dates_in_kpi(project: Project) -> None:
    project.write_csv("d.csv", [line("T1", 1)])
    project.run()
    result = cli_process("--config", project.config, "kpi", "--from", "2025-13-01")
    assert result.code == 2 and "is not a date" in result.stderr
    result = cli_process(
        "--config", project.config, "kpi", "--from", "2025-02-01", "--to", "2025-01-01"
    )
    assert result.code == 2 and "after" in result.stderr


def test_unknown_option_is_usage_error(project: Project) -> None:
    result = cli_process("--config", project.config, "run", "--bogus")
    assert result.code == 2 and "No such option" in result.stderr


def test_unknown_warehouse_scheme(project: Project) -> None:
    project.write_config(
        project.config.read_text().replace("duckdb:///warehouse.duckdb", "mysql://x")
    )
    result = cli_process("--config", project.config, "run")
    assert result.code == 2 and "unknown warehouse URL" in result.stderr


def test_warehouse_in_use_by_another_process(project: Project, tmp_path: Path) -> None:
    project.write_csv("d.csv", [line("T1", 1)])
    project.run()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(30)",
            str(project.root / "warehouse.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        result = cli_process("--config", project.config, "run")
        assert time.perf_counter() - started < 20
        assert result.code == 1
        assert "in use by another process" in result.stderr and str(holder.pid) in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_fx_rates(project: Project) -> None:
    project.write_config(
        project.config.read_text().replace("currency: USD", "currency: USD\nrates: rates.csv")
    )
    (project.root / "rates.csv").write_text("date,currency,rate\n2025-01-01,EUR,1.10\n")
    from .conftest import HEADER

    header = [*HEADER, "currency"]
    project.write_csv(
        "d.csv",
        [
            line("T1", 1, currency="EUR"),
            line("T2", 1, currency="USD"),
            line("T3", 1, currency=""),
            line("T4", 1, currency="EUR", sold_at="2025-01-02 10:00:00"),
        ],
        header=header,
    )
    f = first_file(project)
    assert f["reasons"] == {"missing_value:fx_rate": 1}
    assert Decimal(str(project.kpis()["net_sales"])) == Decimal("31.00")


def test_fx_rates_file_errors(project: Project) -> None:
    project.write_config(
        project.config.read_text().replace("currency: USD", "currency: USD\nrates: rates.csv")
    )
    (project.root / "rates.csv").write_text("day,currency,rate\n2025-01-01,EUR,1.10\n")
    project.write_csv("d.csv", [line("T1", 1)])
    result = cli_process("--config", project.config, "run")
    assert result.code == 1 and "needs a 'date' column" in result.stderr
