"""The API over a PostgreSQL warehouse that other processes load at the same time.

Runs submitted to the server, commits of `salespipe run` processes seen by the very next
request (no cache hit outlives a commit), and readers polling while several runs load:
no error, totals never go back, every total is a committed state, and one snapshot id
always means one state.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Project, line, warehouse_for
from .test_api_support import ApiServer, assert_error, serve


def pg_project(root: Path, request: pytest.FixtureRequest, sources: tuple[str, ...]) -> Project:
    project = Project(root)
    url = warehouse_for("postgres", request)
    project.write_config(
        f"warehouse: {url}\ntimezone: UTC\nsources:\n"
        + "".join(
            f"  - {{name: {s}, landing: landing/{s}, pattern: '*.csv', "
            "formats: {sold_at: '%Y-%m-%d %H:%M:%S'}}\n"
            for s in sources
        )
    )
    for s in sources:
        (root / "landing" / s).mkdir(parents=True)
    return project


def kpis(server: ApiServer) -> httpx.Response:
    resp = server.get("/api/v1/kpis", compare="none")
    assert resp.status_code == 200, resp.text
    return resp


def metric(server: ApiServer, name: str) -> float:
    for row in server.get("/metrics").text.splitlines():
        if row.startswith(name + " "):
            return float(row.split()[1])
    raise AssertionError(f"no metric {name}")


def test_runs_and_commits_of_other_processes(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    project = pg_project(tmp_path, request, ("pos",))
    folder = tmp_path / "landing" / "pos"
    project.write_csv("d1.csv", [line("T1", 1), line("T2", 1, price="5.00")], folder=folder)
    assert project.run()["status"] == "ok"
    with serve(project.config) as server:
        first = kpis(server)
        assert first.json()["net_sales"] == 15 and first.json()["lines"] == 2
        etag = first.headers["etag"]
        again = server.get("/api/v1/kpis", headers={"If-None-Match": etag}, compare="none")
        assert again.status_code == 304

        # POST /api/v1/runs loads on PostgreSQL too; readers move to it at once.
        project.write_csv("d2.csv", [line("T3", 1, price="7.00")], folder=folder)
        job = httpx.post(server.url + "/api/v1/runs?wait=true", json={}, timeout=120)
        assert job.status_code == 200, job.text
        body = job.json()
        assert body["state"] == "ok" and body["result"]["totals"]["rows_loaded"] == 1
        assert body["result"]["checks"]["status"] == "pass"
        after = kpis(server)
        assert after.json()["net_sales"] == 22 and after.headers["etag"] != etag
        stale = server.get("/api/v1/kpis", headers={"If-None-Match": etag}, compare="none")
        assert stale.status_code == 200
        runs = server.get("/api/v1/runs").json()
        assert runs["running_job"] is None
        assert runs["runs"][0]["run_id"] == body["result"]["run_id"]

        # Another process commits: the very next request shows it (no waiting, no TTL).
        hits = metric(server, "salespipe_api_cache_hits_total")
        assert kpis(server).headers["etag"] == after.headers["etag"]  # a hit, same state
        assert metric(server, "salespipe_api_cache_hits_total") == hits + 1
        project.write_csv(
            "d3.csv", [line("T4", 1, price="3.00"), line("T5", 1, quantity="x")], folder=folder
        )
        assert project.run()["files"][-1]["rows_quarantined"] == 1
        latest = kpis(server)
        assert latest.json()["net_sales"] == 25 and latest.headers["etag"] != after.headers["etag"]
        daily = server.get("/api/v1/marts/sales_daily").json()
        assert sum(r["net_sales"] for r in daily["rows"]) == 25  # marts refreshed by that run
        assert daily["snapshot"] == latest.headers["x-salespipe-snapshot"]
        [bad] = server.get("/api/v1/quarantine").json()["rows"]
        assert bad["reasons"] == ["bad_number"] and bad["file"].endswith("d3.csv")
        assert server.get("/api/v1/alerts").json()["available"] is True
        assert metric(server, "salespipe_snapshot_file_id") == 3
        assert metric(server, "salespipe_fact_rows") == 4

        # Answered at once (202); a second run is refused while the first loads.
        project.write_csv("d4.csv", [line("T6", 1, price="1.00")], folder=folder)
        job = httpx.post(server.url + "/api/v1/runs", json={"source": "pos"}, timeout=60)
        assert job.status_code == 202
        assert_error(httpx.post(server.url + "/api/v1/runs"), 409, "RunInProgress", None)
        done = httpx.get(server.url + job.headers["location"], timeout=60).json()
        while done["state"] == "running":
            time.sleep(0.05)
            done = httpx.get(server.url + job.headers["location"], timeout=60).json()
        assert done["state"] == "ok"
        assert kpis(server).json()["net_sales"] == 26


def test_readers_see_only_committed_states_while_runs_load(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two `salespipe run` processes load three files each while a client polls the
    KPIs. File k of the six holds 2^k in sales, so a total tells which files it counts:
    each source's files load in order, so every total must count a prefix of each."""
    sources = ("north", "south")
    project = pg_project(tmp_path, request, sources)
    lines_per_file = 100
    for n, source in enumerate(sources):
        for day in range(3):
            k = 3 * n + day
            rows = [
                line(f"{source}-{day}-{i}", 1, store=source, price=f"{2**k}.00",
                     sold_at=f"2025-01-0{day + 1} 10:00:00")
                for i in range(lines_per_file)
            ]  # fmt: skip
            project.write_csv(f"d{day}.csv", rows, folder=tmp_path / "landing" / source)

    seen: list[Any] = []
    stop = threading.Event()
    with serve(project.config) as server:

        def poll() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    try:
                        resp = client.get("/api/v1/kpis", params={"compare": "none"})
                        body = resp.json()
                        seen.append(
                            (resp.status_code, body.get("net_sales"), body.get("lines"),
                             resp.headers.get("x-salespipe-snapshot"))
                        )  # fmt: skip
                    except Exception as exc:  # recorded: none may happen
                        seen.append(("error", repr(exc), None, None))
                    time.sleep(0.01)  # continuous, yet leaving the loaders some CPU

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            runs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "salespipe.cli.app",
                        "--config",
                        str(project.config),
                        "run",
                        "--source",
                        source,
                        "--json",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for source in sources
            ]
            outs = [run.communicate(timeout=240) for run in runs]
            final = kpis(server).json()  # right after the last commit: already there
        finally:
            stop.set()
            poller.join(timeout=60)

    # every file loaded (the exit code also counts data tests, which are not read here)
    assert [json.loads(out)["status"] for out, _ in outs] == ["ok"] * 2, outs
    everything = (2**6 - 1) * lines_per_file
    assert (final["net_sales"], final["lines"]) == (everything, 6 * lines_per_file)
    assert [s for s in seen if s[0] != 200] == []
    assert len(seen) > 20, len(seen)
    totals = [int(s[1]) for s in seen]
    assert totals == sorted(totals), "a reader never sees totals go back"
    assert any(0 < t < everything for t in totals)  # the reads overlapped the loads
    prefixes = {0b000, 0b001, 0b011, 0b111}  # none, the first, the first two, all three
    for total, lines in ((int(s[1]), s[2]) for s in seen):
        files = total // lines_per_file
        assert files * lines_per_file == total
        assert bin(files).count("1") * lines_per_file == lines  # lines and sales agree
        for n in range(2):  # each source: files 3n, 3n+1, 3n+2 commit in that order
            mine = (files >> (3 * n)) & 0b111
            assert mine in prefixes, (total, n)
    by_snapshot: dict[str, set[int]] = {}
    for s in seen:
        by_snapshot.setdefault(s[3], set()).add(int(s[1]))
    assert all(len(v) == 1 for v in by_snapshot.values()), by_snapshot  # one id, one state
    commits = [int(s[3].split(".")[0]) for s in seen]
    assert commits == sorted(commits)


def test_a_page_read_across_a_full_mart_rebuild_is_read_again(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL resolves a table's name in the newest catalog but reads its rows in the
    request's snapshot: a mart rebuilt (dropped and re-created) after the snapshot began
    would read as empty. The server notices and reads again in a new snapshot."""
    from salespipe.api.auth import KeyRing
    from salespipe.api.mart_reader import MartQuery, public_mart, read_mart
    from salespipe.api.snapshot import Snapshot
    from salespipe.api.state import ServerState
    from salespipe.config import load_config
    from salespipe.marts.refresh import refresh_marts
    from salespipe.warehouse import open_warehouse

    project = pg_project(tmp_path, request, ("pos",))
    rows = [line(f"T{i}", 1, sold_at=f"2025-01-0{i} 10:00:00") for i in range(1, 4)]
    project.write_csv("d1.csv", rows, folder=tmp_path / "landing" / "pos")
    assert project.run()["status"] == "ok"
    config = load_config(project.config)
    mart = public_mart("sales_daily")
    assert mart is not None
    state = ServerState(config, open_warehouse(config), KeyRing.from_config(config))
    snapshots: list[Snapshot] = []

    def read_page(con: Any, snapshot: Snapshot) -> tuple[Any, int]:
        if not snapshots:  # the snapshot has begun; now a rebuild commits
            with open_warehouse(config) as other:
                refresh_marts(other.con, full=True)
        snapshots.append(snapshot)
        page = read_mart(con, MartQuery(mart=mart))
        state.engine.check_table(con, mart.name)
        return page

    try:
        table, total = state.read_with(read_page)
    finally:
        state.close()
    assert total == table.num_rows == 3
    assert len(snapshots) == 2 and snapshots[1] > snapshots[0]


def test_pages_sort_text_as_duckdb_whatever_the_database_locale(
    tmp_path: Path, pg_server: str
) -> None:
    """A PostgreSQL database with a linguistic collation sorts 'a-b' after 'ab' and 'B'
    after 'b'; mart pages sort text by its bytes on both engines, so they match."""
    import psycopg

    from salespipe.api.mart_reader import MartQuery, public_mart, read_mart
    from salespipe.warehouse.duckdb import open_duckdb
    from salespipe.warehouse.postgres import open_postgres

    name = f"spe_icu_{tmp_path.name[-20:]}".replace("-", "_").lower()
    with psycopg.connect(pg_server, autocommit=True) as admin:
        try:
            admin.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu "
                "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        except psycopg.Error as exc:  # a server built without ICU
            pytest.skip(f"no ICU collations: {exc}")
    mart = public_mart("sales_by_store")
    assert mart is not None
    stores = ["b", "B", "a-b", "ab", "Ab", "a b", "ä"]
    pages = []
    for wh in (
        open_duckdb(tmp_path / "w.duckdb"),
        open_postgres(pg_server.rsplit("/", 1)[0] + "/" + name),
    ):
        with wh:
            wh.con.execute(mart.create_sql())
            for store in stores:
                wh.con.execute(
                    f"INSERT INTO {mart.name} (month, store_id) VALUES ('2025-01-01', ?)", [store]
                )
            page, _ = read_mart(wh.con, MartQuery(mart=mart, order_by=(("store_id", True),)))
            pages.append(page.column("store_id").to_pylist())
    assert pages[0] == pages[1] == sorted(stores, key=str.encode, reverse=True)


def test_dashboard_command_starts_an_api_over_postgres(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`salespipe dashboard` on a PostgreSQL config starts its API and stops it on exit."""
    import signal

    from .servers import free_port

    project = pg_project(tmp_path, request, ("pos",))
    project.write_csv("d1.csv", [line("T1", 1)], folder=tmp_path / "landing" / "pos")
    assert project.run()["status"] == "ok"
    port = free_port()
    discovery = tmp_path / ".salespipe-postgres.server.json"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "salespipe.cli.app", "--config", str(project.config)),
            *("dashboard", "--port", str(port)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass  # not listening yet: try again until the deadline
            time.sleep(0.3)
        assert health is not None and health.status_code == 200, proc.stdout
        info = json.loads(discovery.read_text())
        api = httpx.get(f"http://127.0.0.1:{info['port']}/api/v1/kpis", timeout=10)
        assert api.status_code == 200 and api.json()["net_sales"] == 10
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert "started for this dashboard" in output
    assert not discovery.exists()
