"""Input that once loaded wrong numbers or broke a warehouse, found by trying to break it.

Each test runs the real CLI on files written here and checks what a user would: the
numbers to the cent, every row accounted for, and the reasons of the quarantined ones.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from .conftest import HEADER, Project, line


def reasons(project: Project) -> list[tuple[str, int, list[str]]]:
    rows = project.cli("quarantine", "list", "--json").json()
    return sorted((Path(r["file"]).name, r["line"], r["reasons"]) for r in rows)


def warehouse(project: Project) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(project.root / "warehouse.duckdb"), read_only=True)


def test_lines_a_file_rejects_stay_with_that_file(project: Project) -> None:
    """The CSV reader's rejected lines of one file are not counted again with the next."""
    a = project.landing / "a.csv"
    project.write_csv("a.csv", [line("A1", 1), line("A2", 1), line("A3", 1)])
    lines = a.read_text().splitlines()
    lines[2] = "A2,1,2025-01-01 10:00:00"  # too few columns: a malformed row, line 3
    a.write_text("\n".join(lines) + "\n")
    project.write_csv("b.csv", [line("B1", 1), line("B2", 1), line("B3", 1)])
    report = project.run()
    files = {Path(f["uri"]).name: f for f in report["files"]}
    assert files["a.csv"]["rows_in"] == 3 and files["a.csv"]["rows_quarantined"] == 1
    assert files["b.csv"]["rows_in"] == 3 and files["b.csv"]["rows_quarantined"] == 0
    assert files["b.csv"]["reasons"] == {}
    assert reasons(project) == [("a.csv", 3, ["malformed_row"])]
    assert project.kpis()["lines"] == 5


def test_a_duplicate_key_row_does_not_rename_the_product(project: Project) -> None:
    project.write_csv(
        "d.csv",
        [
            line("T1", 1, product="P1", category="Fruit"),
            line("T1", 1, product="P1", category="Junk", product_name="WRONG"),
        ],
    )
    report = project.run()
    assert report["totals"]["rows_quarantined"] == 1
    assert report["totals"]["reasons"] == {"duplicate_key": 1}
    with warehouse(project) as con:
        assert con.execute("SELECT product_name, category FROM dim_product").fetchall() == [
            ("Product P1", "Fruit")
        ]
    assert project.kpis("--category", "Fruit")["net_sales"] == 10.0
    assert project.cli("kpi", "--category", "Junk").code == 2  # no such category at all


# The one source of these tests, and its parts the tests change.
SOURCE = """\
warehouse: duckdb:///warehouse.duckdb
sources:
  - name: pos
    landing: landing/pos
    pattern: "*.csv"
    formats: {{sold_at: "%Y-%m-%d %H:%M:%S"}}
"""
FORMATS = 'formats: {sold_at: "%Y-%m-%d %H:%M:%S"}'
DOTTED_TOO = 'formats: {sold_at: ["%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M"]}'  # 01.02.2025 10:00


def edit_source(project: Project, *, formats: str = FORMATS, add: str | None = None) -> None:
    """The project's config with the source's `formats:` replaced and a key added."""
    new = formats + (f"\n    {add}" if add else "")
    project.write_config(project.config.read_text().replace(FORMATS, new))


EU_CONFIG = (
    SOURCE
    + """    options: {{delimiter: ";", decimal: ","{thousands}}}
{columns}"""
)


def eu_rows(*prices: str) -> list[dict[str, Any]]:
    return [line(f"T{i}", 1, price=p, cost="1,00", discount="0,00") for i, p in enumerate(prices)]


def test_a_dot_in_a_decimal_comma_file_is_ambiguous_unless_thousands_says_so(
    project: Project,
) -> None:
    project.write_config(EU_CONFIG.format(thousands="", columns=""))
    project.write_csv("eu.csv", eu_rows("1.234", "12,50", "1.234,50"), delimiter=";")
    report = project.run()
    assert report["totals"]["rows_loaded"] == 1
    assert report["totals"]["reasons"] == {"bad_number": 2}
    assert Decimal(str(project.kpis()["net_sales"])) == Decimal("12.50")


def test_thousands_dots_with_a_decimal_comma(project: Project) -> None:
    project.write_config(EU_CONFIG.format(thousands=', thousands: "."', columns=""))
    project.write_csv("eu.csv", eu_rows("1.234", "12,50", "1.234,50"), delimiter=";")
    report = project.run()
    assert report["totals"]["rows_loaded"] == 3
    assert Decimal(str(project.kpis()["net_sales"])) == Decimal("2481.00")


def test_an_expression_that_yields_a_number_is_not_reread_the_files_way(
    project: Project,
) -> None:
    """Only text is written with the file's decimal comma and thousands dots; a number an
    expression computes (1234.5600) keeps its value."""
    columns = (
        "    columns:\n"
        "      unit_price: {expr: \"CAST(replace(replace(unit_price, '.', ''), ',', '.') "
        'AS DECIMAL(18,2)) * 2"}\n'
        '      unit_cost: {expr: "unit_cost"}\n'
    )
    project.write_config(EU_CONFIG.format(thousands=', thousands: "."', columns=columns))
    project.write_csv("eu.csv", eu_rows("1.234,56", "0,50"), delimiter=";")
    report = project.run()
    assert report["totals"]["rows_loaded"] == 2, report["totals"]
    # 2 x 1234.56 + 2 x 0.50; the text expression (unit_cost "1,00") is read the file's way
    kpis = project.kpis()
    assert Decimal(str(kpis["net_sales"])) == Decimal("2470.12")
    assert Decimal(str(kpis["cost"])) == Decimal("2.00")


def test_zoned_timestamps_are_parsed_strictly(project: Project) -> None:
    edit_source(project, formats='formats: {sold_at: "%Y-%m-%dT%H:%M:%S%z"}')
    stamps = {
        "Z": "2024-06-02T10:00:00Z",
        "ok": "2024-06-30T23:30:00-02:00",
        "compact": "2024-06-02T10:00:00+0530",
        "june31": "2024-06-31T10:00:00+00:00",
        "feb29": "2023-02-29T23:00:00+02:00",
        "offset99": "2024-06-02T10:00:00+99:00",
        "minutes75": "2024-06-02T10:00:00+01:75",
    }
    project.write_csv("z.csv", [line(k, 1, sold_at=v) for k, v in stamps.items()])
    report = project.run()
    assert report["totals"]["rows_loaded"] == 3
    assert report["totals"]["reasons"] == {"bad_timestamp": 4}
    with warehouse(project) as con:
        days = dict(con.execute("SELECT transaction_id, sale_date FROM fact_sales").fetchall())
    assert {k: str(v) for k, v in days.items()} == {
        "Z": "2024-06-02",
        "ok": "2024-07-01",  # 23:30 at -02:00 is 01:30 UTC, the next day (source zone UTC)
        "compact": "2024-06-02",
    }


def test_a_placeholder_year_is_a_bad_timestamp_and_the_warehouse_keeps_working(
    project: Project,
) -> None:
    project.write_csv(
        "y.csv",
        [
            line("Y0", 1, sold_at="0000-06-15 10:00:00"),
            line("Y9", 1, sold_at="9999-12-31 10:00:00"),
            line("Y1899", 1, sold_at="1899-12-31 10:00:00"),
            line("OK", 1, sold_at="2025-01-01 10:00:00"),
        ],
    )
    report = project.run()
    assert report["status"] == "ok"
    assert report["totals"]["reasons"] == {"bad_timestamp": 3}
    kpis = project.kpis()
    assert (kpis["from"], kpis["to"], kpis["lines"]) == ("2025-01-01", "2025-01-01", 1)
    again = project.cli("marts", "refresh", "--full")
    assert again.code == 0, again.stderr


def test_header_is_what_the_tests_write() -> None:
    # the raw CSV edits above assume this column order
    assert HEADER[:3] == ["transaction_id", "line_no", "sold_at"]


def test_a_file_name_with_glob_characters_is_read_as_written(project: Project) -> None:
    project.write_csv("s*.csv", [line("STAR", 1)])
    project.write_csv("sx.csv", [line("X", 1, price="5.00")])
    project.write_csv("s[1].csv", [line("BRACKET", 1, price="2.00")])
    report = project.run()
    files = {Path(f["uri"]).name: f for f in report["files"]}
    assert {n: (f["rows_in"], f["rows_loaded"]) for n, f in files.items()} == {
        "s*.csv": (1, 1),
        "sx.csv": (1, 1),
        "s[1].csv": (1, 1),
    }
    assert Decimal(str(project.kpis()["net_sales"])) == Decimal("17.00")


def test_an_encoding_that_does_not_fit_rejects_the_file_with_a_hint(project: Project) -> None:
    edit_source(project, add="options: {encoding: utf-16}")
    project.write_csv("u.csv", [line("T1", 1)])
    result = project.cli("run", "--json")
    assert "Traceback" not in result.stderr
    (f,) = result.json()["files"]
    assert f["status"] == "rejected"
    assert "utf-16" in f["error"] and "encoding" in f["hint"]


def test_a_file_removed_after_listing_fails_alone(project: Project) -> None:
    from salespipe.config import load_config
    from salespipe.ingest.run import run_files
    from salespipe.landing import discover_files

    project.write_csv("a.csv", [line("A", 1)])
    project.write_csv("b.csv", [line("B", 1)])
    config = load_config(project.config)
    source = config.sources[0]
    work = [(source, f) for f in discover_files(config, source)]
    (project.landing / "a.csv").unlink()
    run = run_files(config, work)
    statuses = {Path(f.uri).name: (f.status, f.error) for f in run.files}
    assert statuses["b.csv"] == ("loaded", None)
    assert statuses["a.csv"][0] == "failed"
    assert "disappeared" in str(statuses["a.csv"][1])
    assert project.kpis()["lines"] == 1


RULES_CONFIG = (
    SOURCE
    + """    rules:
      - {{name: {name}, check: "{check}"}}
"""
)


def test_a_rule_may_check_a_raw_column_by_name(project: Project) -> None:
    """Cancelled orders are in the export with a status column no canonical field holds."""
    project.write_config(RULES_CONFIG.format(name="not_cancelled", check="status <> 'canceled'"))
    header = [*HEADER, "status"]
    project.write_csv(
        "s.csv",
        [
            line("T1", 1, status="delivered"),
            line("T2", 1, status="canceled", price="99.00"),
            line("T3", 1, status="", price="5.00"),  # blank: NULL passes, as in SQL CHECK
        ],
        header=header,
    )
    report = project.run()
    assert report["totals"]["reasons"] == {"rule:not_cancelled": 1}
    assert report["files"][0]["unused_columns"] == []
    assert Decimal(str(project.kpis()["net_sales"])) == Decimal("15.00")


def test_a_rule_naming_no_column_rejects_the_file_and_says_which(project: Project) -> None:
    project.write_config(RULES_CONFIG.format(name="typo", check="stauts <> 'x'"))
    project.write_csv("s.csv", [line("T1", 1)])
    result = project.cli("run", "--json")
    (f,) = result.json()["files"]
    assert f["status"] == "rejected"
    assert "rules.typo" in f["error"] and "'stauts'" in f["error"]
    assert "canonical" in f["hint"]


def test_a_file_not_in_its_declared_encoding_is_rejected_whole(project: Project) -> None:
    """Latin-1 bytes read as UTF-8: nothing loads (so fixing `encoding` loads it all)."""
    project.write_csv(
        "l.csv",
        [line("T1", 1), line("T2", 1, product="P2", product_name="Café crème"), line("T3", 1)],
        encoding="latin-1",
    )
    (f,) = project.run()["files"]
    assert (f["status"], f["rows_loaded"]) == ("rejected", 0)
    assert "not valid utf-8" in f["error"] and "line 3" in f["error"]
    assert "encoding" in f["hint"]
    failed = project.root / "landing" / "pos" / "failed" / "l.csv"
    moved = failed if failed.exists() else next(project.root.rglob("l.csv"))
    moved.rename(project.landing / "l.csv")
    edit_source(project, add="options: {encoding: latin-1}")
    (f,) = project.run()["files"]
    assert (f["status"], f["rows_loaded"]) == ("loaded", 3)
    with warehouse(project) as con:
        names = {r[0] for r in con.execute("SELECT product_name FROM dim_product").fetchall()}
    assert "Café crème" in names


def test_a_filter_value_no_dimension_holds_is_an_error_not_a_zero(project: Project) -> None:
    project.write_csv("d.csv", [line("T1", 1, store="S1"), line("T2", 1, store="S2")])
    project.run()
    typo = project.cli("kpi", "--json", "--store", "S9")
    assert typo.code == 2 and "no store 'S9'" in typo.stderr and "S1, S2" in typo.stderr
    assert project.cli("kpi", "--json", "--category", "Nothing").code == 2
    assert project.cli("kpi", "--json", "--region", "Atlantis").code == 2
    # a known store with no sales in the period is a real zero
    quiet = project.kpis("--store", "S2", "--from", "2030-01-01")
    assert quiet["lines"] == 0
    # an empty period counts 0 orders like every other count (null is for files without ids)
    assert (quiet["orders"], quiet["net_sales"], quiet["average_order_value"]) == (0, 0, None)


def test_a_binary_file_is_rejected_as_not_text(project: Project) -> None:
    (project.landing / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (f,) = project.run()["files"]
    assert f["status"] == "rejected" and "not text" in f["error"]


def test_a_failing_cast_in_an_expression_suggests_try_cast(project: Project) -> None:
    project.write_config(
        project.config.read_text()
        + '    columns: {unit_price: {expr: "CAST(unit_price AS DECIMAL(18,2))"}}\n'
    )
    project.write_csv("d.csv", [line("T1", 1), line("T2", 1, price="n/a")])
    (f,) = project.run()["files"]
    assert f["status"] == "rejected" and "TRY_CAST" in f["hint"]


def test_a_half_way_ratio_rounds_half_up_on_both_engines(engine_project: Project) -> None:
    """4.89 / 8.00 = 61.125 %: a double holds 61.12499999999999; shown, it is 61.13."""
    engine_project.write_csv("m.csv", [line("T1", 1, price="8.00", cost="3.11")])
    engine_project.run()
    rows = engine_project.cli("marts", "show", "sales_daily", "--json").json()["data"]
    assert [r["margin_pct"] for r in rows] == [61.13]


def test_quarantine_commands_work_while_the_server_owns_the_warehouse(project: Project) -> None:
    """list and export read through the server's API; replay runs as one of its jobs."""
    from .test_api_support import serve

    project.write_csv(
        "d.csv", [line("T1", 1), line("T2", 1, sold_at="01.02.2025 10:00"), line("T3", 1)]
    )
    project.run()
    with serve(project.config) as server:
        listed = project.cli("quarantine", "list", "--json")
        assert listed.code == 0, listed.stderr
        assert [r["line"] for r in listed.json()] == [3]
        out = project.root / "q.csv"
        exported = project.cli("quarantine", "export", "--out", out)
        assert exported.code == 0, exported.stderr
        assert "01.02.2025 10:00" in out.read_text()
        edit_source(project, formats=DOTTED_TOO)
        replayed = project.cli("quarantine", "replay", "--json")
        assert replayed.code == 0, replayed.stderr
        assert replayed.json()["totals"]["rows_loaded"] == 1
        assert server.get("/api/v1/kpis").json()["lines"] == 3
        assert project.cli("quarantine", "list", "--json").json() == []
        # the marts read through the API too; what needs the file itself says who holds it
        marts = project.cli("marts", "list", "--json")
        assert marts.code == 0, marts.stderr
        assert {m["name"]: m["status"] for m in marts.json()}["sales_daily"] == "built"
        shown = project.cli("marts", "show", "sales_daily", "--json", "--limit", "0")
        assert shown.code == 0, shown.stderr
        assert sum(r["lines"] for r in shown.json()["data"]) == 3
        held = project.cli("check")
        assert held.code != 0 and "owned by `salespipe serve`" in held.stderr, held.stderr


def test_a_replay_that_replaces_loaded_rows_says_so(project: Project) -> None:
    project.write_csv("d1.csv", [line("T1", 1, sold_at="01.02.2025 10:00")])
    project.run()
    project.write_csv("d2.csv", [line("T1", 1, price="12.00")])  # the key loads meanwhile
    project.run()
    edit_source(project, formats=DOTTED_TOO)
    replay = project.cli("quarantine", "replay", "--json").json()
    (f,) = replay["files"]
    assert f["rows_updated"] == 1 and "replaced loaded rows" in f["hint"]
    shown = project.cli("quarantine", "replay")  # nothing left: no hint
    assert "replaced" not in shown.stderr


def test_a_nul_character_in_text_loads_on_both_engines(
    engine_project: Project, engine: str
) -> None:
    """A NUL past the first bytes (which would make the file look binary) loads on both
    engines; PostgreSQL text cannot hold it, so there the character is dropped."""
    good = [line(f"G{i}", 1) for i in range(200)]  # past the 8 KB the binary check reads
    engine_project.write_csv(
        "n.csv", [*good, line("T1", 1, product="P\x002", product_name="Bad\x00Name")]
    )
    report = engine_project.run()
    assert report["status"] == "ok", report
    assert report["totals"]["rows_loaded"] == 201
    rows = engine_project.cli("marts", "show", "top_products", "--json", "--limit", "0").json()
    nul_product = "P2" if engine == "postgres" else "P\x002"
    assert sorted(r["product_id"] for r in rows["data"]) == sorted(["P1", nul_product])


def test_quarantine_list_says_when_it_shows_only_the_first_rows(project: Project) -> None:
    project.write_csv("q.csv", [line(f"T{i}", 1, quantity="x") for i in range(3)])
    project.run()
    shown = project.cli("quarantine", "list", "--limit", "2")
    assert shown.code == 0 and "the first 2 rows" in shown.stdout
    assert "the first" not in project.cli("quarantine", "list").stdout


def test_piped_output_is_not_cut_to_80_columns(project: Project) -> None:
    """In a log or a pipe, a long file name stays whole in the run table."""
    from .conftest import cli_process

    name = "sales_export_from_the_north_region_store_0042_2025-01-01.csv"
    project.write_csv(name, [line("T1", 1)])
    result = cli_process("--config", project.config, "run", env={"COLUMNS": ""})
    assert result.code == 0, result.stderr
    assert name in result.stdout
