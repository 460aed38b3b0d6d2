"""Contract SQL stays inside the row: expressions and rules that read files, tables or
settings are refused when the config loads, naming the key and line; nothing is loaded."""

from __future__ import annotations

import json

import duckdb
import pytest

from salespipe.contract.safety import find_unsafe, forbidden_function

from .conftest import Project, cli_process, line

PASSWD = "/etc/passwd"

# (where, SQL, a word of the construct the message names)
FORBIDDEN = [
    ("column", f"(select r.content from read_text('{PASSWD}') r)", "subquery"),
    ("column", "glob('/root/**')", "glob()"),
    ("column", "current_setting('home_directory')", "current_setting()"),
    ("column", "getenv('HOME')", "getenv()"),
    ("rule", f"unit_price < (select count(*) from read_csv('{PASSWD}'))", "subquery"),
    ("rule", f"read_csv_auto('{PASSWD}') IS NULL", "read_csv_auto()"),
    ("column", "coalesce(product_name, (select max(x) from (select 1 as x) t))", "subquery"),
    ("column", "product_name IN (SELECT content FROM read_text('/etc/hosts'))", "subquery"),
    ("column", f"\"READ_TEXT\"('{PASSWD}')", "read_text()"),
    ("column", f"main.Read_Text('{PASSWD}')", "read_text()"),
    ("column", "GLOB('/root/**')", "glob()"),
    ("column", f"product_name) FROM read_text('{PASSWD}') WHERE (1", "not a single valid"),
    ("rule", "query('SELECT 1') IS NOT NULL", "query()"),
    ("rule", "duckdb_settings() IS NULL", "duckdb_settings()"),
]

ALLOWED = {
    "product_name": "upper(trim(product_name)) || '-' || lpad(line_no, 3, '0')",
    "category": "CASE WHEN regexp_matches(category, '^C') THEN replace(category, 'Cat', "
    "'Category') ELSE 'Other' END",
    "store_name": "coalesce(NULLIF(store_name, ''), 'unknown')",
    "city": "regexp_replace(city, '[aeiou]', '', 'g')",
    "region": "CAST(max(TRY_CAST(quantity AS INTEGER)) OVER (PARTITION BY store_id) AS VARCHAR)",
    "sold_at": "strftime(strptime(sold_at, '%Y-%m-%d %H:%M:%S') + INTERVAL 1 HOUR, "
    "'%Y-%m-%d %H:%M:%S')",
    "customer_id": "split_part(customer_id, 'C', 2)",
    "country": "lower(substring(country FROM 1 FOR 2))",
    "unit_cost": "CAST(CAST(unit_cost AS DECIMAL(18,4)) / 2 AS VARCHAR)",
}
ALLOWED_RULES = [
    "unit_price * quantity < 1000 OR unit_price IS NULL",
    "extract(year FROM sold_at) >= 2024 AND sale_date >= DATE '2024-01-01'",
    "product_name IS NOT NULL AND length(product_name) > 0",
    "country IN ('fr', 'de') AND date_trunc('month', sale_date) = DATE '2025-01-01'",
]


def with_source_keys(project: Project, text: str) -> None:
    project.write_config(project.config.read_text() + text)


def source_keys(where: str, sql: str) -> str:
    # JSON strings are valid YAML double-quoted scalars, whatever quotes the SQL holds.
    if where == "rule":
        return f"    rules:\n      - {{name: probe, check: {json.dumps(sql)}}}\n"
    return f"    columns:\n      product_name: {{expr: {json.dumps(sql)}}}\n"


@pytest.mark.parametrize(("where", "sql", "construct"), FORBIDDEN)
def test_forbidden_sql_is_refused_at_load(
    project: Project, where: str, sql: str, construct: str
) -> None:
    with_source_keys(project, source_keys(where, sql))
    project.write_csv("d1.csv", [line("T1", 1)])
    result = project.cli("run", "--json")
    assert result.code == 2, result.stderr
    key = "sources[0].rules[0].check" if where == "rule" else "sources[0].columns.product_name"
    assert key in result.stderr
    assert "line 10" in result.stderr  # the line of the expression, after the base config
    assert construct in result.stderr
    assert "docs/contracts.md" in result.stderr  # says where the rules are explained
    assert not (project.root / "warehouse.duckdb").exists()
    assert (project.landing / "d1.csv").exists()


def test_refused_through_the_real_process(project: Project) -> None:
    with_source_keys(project, source_keys("column", f"(select * from read_text('{PASSWD}'))"))
    project.write_csv("d1.csv", [line("T1", 1)])
    result = cli_process("--config", project.config, "run", cwd=project.root)
    assert result.code == 2
    assert "sources[0].columns.product_name.expr" in result.stderr
    assert "salespipe.yaml:10" in result.stderr and "line 10" in result.stderr
    assert "Traceback" not in result.stderr and "root:" not in result.stderr
    assert not (project.root / "warehouse.duckdb").exists()


def test_every_offending_expression_is_named(project: Project) -> None:
    with_source_keys(
        project,
        "    columns:\n"
        "      product_name: {expr: \"glob('/root/**')\"}\n"
        '      category: {expr: "upper(category)"}\n'
        "      city: {expr: \"current_setting('home_directory')\"}\n",
    )
    result = project.cli("run", "--json")
    assert result.code == 2
    assert "columns.product_name.expr" in result.stderr and "line 10" in result.stderr
    assert "columns.city.expr" in result.stderr and "line 12" in result.stderr
    assert "columns.category" not in result.stderr


def test_legitimate_expressions_still_load(project: Project) -> None:
    columns = "".join(f"      {f}: {{expr: {json.dumps(sql)}}}\n" for f, sql in ALLOWED.items())
    rules = "".join(
        f"      - {{name: r{i}, check: {json.dumps(sql)}}}\n" for i, sql in enumerate(ALLOWED_RULES)
    )
    with_source_keys(project, "    columns:\n" + columns + "    rules:\n" + rules)
    project.write_csv(
        "d1.csv",
        [line("T1", 1, quantity="2"), line("T1", 2, product="P2", sold_at="2025-01-02 08:00:00")],
    )
    report = project.run()
    f = report["files"][0]
    assert (f["rows_loaded"], f["rows_quarantined"]) == (2, 0), f
    con = duckdb.connect(str(project.root / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone='UTC'")
    rows = con.execute(
        "SELECT p.product_name, p.category, s.city, s.region, s.country, f.customer_id, "
        "f.sold_at::VARCHAR, f.unit_cost::VARCHAR FROM fact_sales f "
        "JOIN dim_product p USING (product_id) JOIN dim_store s USING (store_id) ORDER BY f.line_no"
    ).fetchall()
    con.close()
    assert rows == [
        ("PRODUCT P1-001", "Category", "Prs", "2", "fr", "1", "2025-01-01 11:00:00+00", "2.0000"),
        ("PRODUCT P2-002", "Category", "Prs", "2", "fr", "1", "2025-01-02 09:00:00+00", "2.0000"),
    ]


@pytest.mark.parametrize("sql", [sql for _, sql, _ in FORBIDDEN])
def test_find_unsafe_names_a_construct(sql: str) -> None:
    assert find_unsafe(sql)


@pytest.mark.parametrize(
    "sql",
    [
        # each reads as harmless to a lexer that treats backslash or E'' strings differently
        "'\\' || (select 1) || '\\'",
        "E'\\'' || (select 1)",
        "$$ $$ || (select 1)",
        "1); PRAGMA version; SELECT (1",
        "x -- the compiler's closing parenthesis would be commented out",
        "EXISTS (SELECT 1)",
        "ARRAY(SELECT 1)",
        "system.main.\"Parquet_Metadata\"('x.parquet')",
        "http_get('http://example.com')",
        "which_secret('s3://bucket/key', 's3')",
        "pragma_version()",
    ],
)
def test_parser_tricks_are_refused(sql: str) -> None:
    assert find_unsafe(sql)


@pytest.mark.parametrize(
    "sql",
    [
        *ALLOWED.values(),
        *ALLOWED_RULES,
        "Date || ' ' || Heure || \"Prix TTC\"",
        "row_number() OVER (PARTITION BY Ticket ORDER BY Heure, Article, Taille)",
        "regexp_replace(CustomerID, '[.]0$', '')",
        "TRY_CAST(a AS DECIMAL(18,4)) * 2",
        "strptime(a, '%d/%m/%Y')::DATE",
        "trim(BOTH 'x' FROM a) || position('a' IN b)",
        "sum(x) FILTER (WHERE y > 1) OVER ()",
        "list_transform([1, 2], v -> v + 1)[1]",
        "current_date",
    ],
)
def test_row_expressions_are_allowed(sql: str) -> None:
    assert find_unsafe(sql) is None


@pytest.mark.parametrize(
    ("name", "forbidden"),
    [
        ("read_text", True),
        ('"READ_TEXT"', True),
        ("main.read_parquet", True),
        ("Parquet_Schema", True),
        ("iceberg_scan", True),
        ("current_setting", True),
        ("current_date", False),
        ("regexp_replace", False),
        ("replace", False),
        ("lpad", False),
    ],
)
def test_forbidden_function_names(name: str, forbidden: bool) -> None:
    assert forbidden_function(name) is forbidden
