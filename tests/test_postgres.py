"""The same pipeline on a real PostgreSQL server that the tests start and stop themselves."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .conftest import BASIC_CONFIG, Project, cli_process, line
from .servers import create_database

_counter = itertools.count()


@pytest.fixture
def pg_project(tmp_path: Path, pg_server: str) -> Project:
    url = create_database(pg_server, f"sp_{next(_counter)}")
    p = Project(tmp_path)
    p.landing.mkdir(parents=True)
    p.write_config(BASIC_CONFIG.replace("duckdb:///warehouse.duckdb", url))
    p.url = url  # type: ignore[attr-defined]
    return p


def pg_one(url: str, sql: str) -> Any:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_load_upsert_and_quarantine_on_postgres(pg_project: Project) -> None:
    pg_project.write_csv(
        "d1.csv",
        [
            line("T1", 1),
            line("T1", 2, price="5.00"),
            line("T2", 1, quantity="x"),
            line("T1", 1),
            line("T3", 1, sold_at="2025-02-03 10:00:00"),
        ],
    )
    f = pg_project.run()["files"][0]
    assert (f["rows_in"], f["rows_loaded"], f["rows_quarantined"]) == (5, 3, 2)
    assert f["reasons"] == {"bad_number": 1, "duplicate_key": 1}
    pg_project.write_csv("d2.csv", [line("T1", 1), line("T1", 2, price="7.50"), line("T4", 1)])
    f2 = pg_project.run()["files"][-1]
    assert (f2["rows_loaded"], f2["rows_updated"], f2["rows_duplicate"]) == (1, 1, 1)
    k = pg_project.kpis()
    assert Decimal(str(k["net_sales"])) == Decimal("37.50") and k["lines"] == 4
    url = pg_project.url  # type: ignore[attr-defined]
    partitions = {r[0] for r in pg_one(url, "SELECT inhrelid::regclass::text FROM pg_inherits")}
    assert {"fact_sales_2025_01", "fact_sales_2025_02"} <= partitions
    q = pg_project.cli("quarantine", "list", "--json").json()
    assert sorted((r["line"], r["reasons"][0]) for r in q) == [
        (4, "bad_number"),
        (5, "duplicate_key"),
    ]
    assert pg_project.run()["files"] == [] or all(
        x["status"] == "skipped" for x in pg_project.run()["files"]
    )


def test_correction_moves_a_sale_into_a_new_month_partition(pg_project: Project) -> None:
    """A changed row whose new date falls in a month without a partition: the old version
    leaves its partition, the new one lands in the partition the load attaches, and the
    marts of both months follow."""
    pg_project.write_csv("d1.csv", [line("T1", 1), line("T2", 1, price="5.00")])
    pg_project.run()
    pg_project.write_csv(
        "d2.csv",
        [line("T1", 1, sold_at="2025-04-02 12:00:00", price="12.00"), line("T2", 1, price="5.00")],
    )
    f = pg_project.run()["files"][-1]
    assert (f["rows_loaded"], f["rows_updated"], f["rows_duplicate"]) == (0, 1, 1)
    url = pg_project.url  # type: ignore[attr-defined]
    by_partition = pg_one(
        url, "SELECT tableoid::regclass::text, count(*) FROM fact_sales GROUP BY 1 ORDER BY 1"
    )
    assert by_partition == [("fact_sales_2025_01", 1), ("fact_sales_2025_04", 1)]
    assert pg_one(url, "SELECT month, net_sales FROM sales_monthly ORDER BY month") == [
        (date(2025, 1, 1), Decimal("5.0000000000")),
        (date(2025, 4, 1), Decimal("12.0000000000")),
    ]
    assert pg_project.cli("check").code == 0


def test_replay_on_postgres(pg_project: Project) -> None:
    pg_project.write_csv("d1.csv", [line("T1", 1), line("T2", 1, sold_at="01.02.2025 10:00")])
    pg_project.run()
    pg_project.write_config(
        pg_project.config.read_text().replace(
            'formats: {sold_at: "%Y-%m-%d %H:%M:%S"}',
            'formats: {sold_at: ["%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M"]}',
        )
    )
    replay = pg_project.cli("quarantine", "replay", "--json").json()
    assert replay["files"][0]["rows_loaded"] == 1
    assert pg_project.kpis()["lines"] == 2
    assert pg_project.cli("quarantine", "list", "--json").json() == []


def test_concurrent_runs_on_different_sources_and_a_reader(
    pg_project: Project, tmp_path: Path
) -> None:
    """Several `salespipe run` processes at once, one per source, while a reader queries."""
    import subprocess
    import sys
    import threading

    sources = ["north", "south", "east"]
    config = (
        pg_project.config.read_text().split("sources:")[0]
        + "sources:\n"
        + "".join(
            f"  - {{name: {s}, landing: landing/{s}, pattern: '*.csv', formats: {{sold_at: '%Y-%m-%d %H:%M:%S'}}}}\n"
            for s in sources
        )
    )
    pg_project.write_config(config)
    expected = Decimal(0)
    for n, s in enumerate(sources):
        folder = pg_project.root / "landing" / s
        for day in range(3):
            rows = [
                line(
                    f"{s}-{day}-{i}",
                    1,
                    store=s,
                    price=f"{n + 1}.00",
                    sold_at=f"2025-01-0{day + 1} 10:00:00",
                )
                for i in range(400)
            ]
            pg_project.write_csv(f"d{day}.csv", rows, folder=folder)
            expected += Decimal(n + 1) * 400
    errors: list[str] = []
    seen: list[Decimal] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            r = pg_project.cli("kpi", "--json")
            if r.code != 0:
                errors.append(r.stderr)
            else:
                seen.append(Decimal(str(r.json()["net_sales"])))

    thread = threading.Thread(target=reader)
    thread.start()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "salespipe.cli.app",
                "--config",
                str(pg_project.config),
                "run",
                "--source",
                s,
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in sources
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    stop.set()
    thread.join(timeout=60)
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-2000:] for o in outs]
    assert errors == []
    assert Decimal(str(pg_project.kpis()["net_sales"])) == expected
    assert seen == sorted(seen), "a reader never sees totals go backwards"
    # every value a reader saw is a sum of whole files (400 lines at the source's price)
    assert all(v % 400 == 0 for v in seen)


def test_parity_duckdb_and_postgres_give_identical_kpis_and_marts(
    pg_project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same files give the same KPIs and the same rows of every mart on both engines."""
    from salespipe.config import load_config
    from salespipe.generate import GenerateOptions, generate_sales
    from salespipe.marts import MARTS
    from salespipe.query.marts import mart_rows
    from salespipe.warehouse import open_warehouse

    data = tmp_path_factory.mktemp("parity-data")
    generate_sales(
        GenerateOptions(
            out=data,
            days=40,
            rows_per_day=120,
            stores=4,
            products=60,
            customers=150,
            seed=11,
            dirty_rate=0.02,
        )
    )
    duck = Project(tmp_path_factory.mktemp("parity-duck"))
    duck.landing.mkdir(parents=True)
    duck.write_config(BASIC_CONFIG)
    for f in sorted(data.glob("*.csv")):
        (duck.landing / f.name).write_bytes(f.read_bytes())
        (pg_project.landing / f.name).write_bytes(f.read_bytes())
    # a late correction and a return landing in a later month
    for project in (duck, pg_project):
        project.write_csv(
            "zz_late.csv",
            [
                line("LATE-1", 1, sold_at="2025-01-05 10:00:00", price="99.99"),
                line("LATE-2", 1, sold_at="2025-02-07 11:00:00", quantity="-2"),
            ],
        )
        assert project.run()["status"] == "ok"
    assert duck.kpis() == pg_project.kpis()
    for args in (("--from", "2025-01-10", "--to", "2025-01-31"), ("--store", "S01")):
        assert duck.kpis(*args) == pg_project.kpis(*args)
    with open_warehouse(load_config(duck.config), read_only=True) as dwh:
        duck_marts = {m.name: _rows(mart_rows, dwh.con, m.name) for m in MARTS}
    with open_warehouse(load_config(pg_project.config), read_only=True) as pwh:
        pg_marts = {m.name: _rows(mart_rows, pwh.con, m.name) for m in MARTS}
    assert len(duck_marts) == len(MARTS)
    for name, rows in duck_marts.items():
        assert rows == pg_marts[name], name


def _rows(fetch: Any, con: Any, name: str) -> Any:
    from salespipe.errors import UsageError

    try:
        cols, rows, _ = fetch(con, name)
    except UsageError as exc:  # skipped mart (fields the data lacks): same note on both
        return ("skipped", exc.message)
    return cols, sorted(tuple(_norm(v) for v in r) for r in rows)


def _norm(value: Any) -> str:
    """Compare values, not engine types: 44.0000 (DECIMAL) equals 44 (BIGINT)."""
    if isinstance(value, float):
        return format(Decimal(str(round(value, 6))).normalize(), "f")
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return format(Decimal(value).normalize(), "f")
    return str(value)


def test_migrate_duckdb_to_postgres(project: Project, pg_server: str) -> None:
    project.write_csv(
        "d1.csv", [line("T1", 1), line("T2", 1, quantity="x"), line("T3", 1, price="3.25")]
    )
    project.run()
    before = project.kpis()
    url = create_database(pg_server, f"sp_migrate_{next(_counter)}")
    result = project.cli("migrate", "--to", url, "--json")
    assert result.code == 0, result.stderr
    assert result.json()["tables"]["fact_sales"] == 2
    project.write_config(project.config.read_text().replace("duckdb:///warehouse.duckdb", url))
    assert project.kpis() == before
    assert [r["reasons"] for r in project.cli("quarantine", "list", "--json").json()] == [
        ["bad_number"]
    ]
    project.write_csv("d2.csv", [line("T4", 1)])
    f = project.run()["files"][-1]
    assert f["status"] == "loaded" and f["file_id"] > 1
    again = project.cli("migrate", "--to", url)
    assert again.code == 2


POSTGRES_DOC = Path(__file__).resolve().parent.parent / "docs" / "postgresql.md"


def documented_sql(block: str, names: dict[str, str], schema: str = "salespipe") -> list[str]:
    """The statements of the `privileges:<block>` SQL block of docs/postgresql.md, for the
    objects in `schema`, with the documented names (role salespipe, role analyst, database
    sales) replaced by `names`."""
    import re

    text = POSTGRES_DOC.read_text()
    body = text.split(f"<!-- privileges:{block}:start -->")[1]
    sql = body.split(f"<!-- privileges:{block}:end -->")[0].split("```sql")[1].split("```")[0]
    sql = sql.replace("SCHEMA salespipe", f"SCHEMA {schema}")
    sql = sql.replace("search_path = salespipe", f"search_path = {schema}")
    for name, unique in names.items():
        sql = re.sub(rf"\b{name}\b", unique, sql)
    return [s.strip() for s in sql.split(";") if s.strip()]


@pytest.mark.parametrize("setup", ["schema", "database"])
def test_documented_privileges_load_and_read_only_analyst(
    setup: str, tmp_path: Path, pg_server: str
) -> None:
    """A role with exactly the privileges docs/postgresql.md gives loads files (new
    partitions included) into a hardened database, and the documented analyst role reads
    everything, partitions and marts created after its grants too, but writes nothing."""
    n = next(_counter)
    owner, analyst, db = f"sp_owner_{n}", f"sp_analyst_{n}", f"sp_priv_{n}"
    names = {"salespipe": owner, "analyst": analyst, "sales": db}
    schema = owner if setup == "schema" else "public"
    base = pg_server.rsplit("/", 1)[0]  # postgresql://postgres@127.0.0.1:PORT
    if setup == "database":
        with psycopg.connect(pg_server, autocommit=True) as admin:
            for statement in documented_sql("database", names):
                admin.execute(statement)
    else:
        create_database(pg_server, db)
    with psycopg.connect(f"{base}/{db}", autocommit=True) as admin:
        # hardened: PUBLIC gets nothing, so only the documented grants count
        admin.execute(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC')
        admin.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        setup_sql = documented_sql("schema", names) if setup == "schema" else []
        for statement in [*setup_sql, *documented_sql("analyst", names, schema)]:
            admin.execute(statement)

    def url_as(role: str) -> str:
        return f"{base.replace('//postgres@', f'//{role}@')}/{db}"

    project = Project(tmp_path)
    project.landing.mkdir(parents=True)
    project.write_config(BASIC_CONFIG.replace("duckdb:///warehouse.duckdb", url_as(owner)))
    project.write_csv("d1.csv", [line("T1", 1), line("T2", 1, quantity="x"), line("T3", 1)])
    first = project.run()
    assert first["status"] == "ok" and first["files"][0]["rows_loaded"] == 2
    # a correction and a new month (a new partition), after the analyst's grants
    project.write_csv(
        "d2.csv", [line("T1", 1, price="9.00"), line("T4", 1, sold_at="2025-03-04 09:00:00")]
    )
    second = project.run()["files"][-1]
    assert (second["rows_loaded"], second["rows_updated"]) == (1, 1)
    assert project.cli("check").code == 0

    with psycopg.connect(url_as(owner)) as conn:
        assert conn.execute("SELECT current_schema()").fetchall()[0][0] == schema
        public = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert setup == "database" or public.fetchall()[0][0] == 0, "nothing lands in public"

    with psycopg.connect(url_as(analyst), autocommit=True) as conn:
        for table, rows in (("fact_sales", 3), ("fact_sales_2025_03", 1), ("quarantine", 1)):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == rows
        assert conn.execute("SELECT count(*) FROM sales_daily").fetchall()[0][0] > 0
        for statement in (
            "DELETE FROM fact_sales",
            "INSERT INTO dim_store (store_id) VALUES ('X')",
            "CREATE TABLE analyst_scratch (a int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    # salespipe itself, as the analyst: reads work, a write is refused with what to grant
    reader = Project(tmp_path / "analyst")
    reader.landing.mkdir(parents=True)
    reader.write_config(BASIC_CONFIG.replace("duckdb:///warehouse.duckdb", url_as(analyst)))
    assert Decimal(str(reader.kpis()["net_sales"])) == Decimal("29.00")
    shown = reader.cli("marts", "show", "sales_daily", "--json")
    assert shown.code == 0, shown.stderr
    reader.write_csv("d3.csv", [line("T9", 1)])
    refused = cli_process("--config", reader.config, "run")  # the real entry point
    assert refused.code == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "privilege" in refused.stderr and "docs/postgresql.md" in refused.stderr
