"""Readers while a load runs: a long load submitted by `salespipe run` in another process
(delegated to the server that owns the warehouse) while a client polls /api/v1/kpis.

Zero errors, and net_sales moves from the old committed value to the new one without any
value in between; the server's discovery file is private, ignored when stale, and
removed on shutdown.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from .conftest import cli
from .test_api_support import ApiServer, assert_error, generate, make_project, serve

BIG_DAYS, BIG_ROWS_PER_DAY = 40, 4000  # one file, ~160k lines: a load of seconds


def poll_kpis(server: ApiServer, stop: threading.Event, seen: list[Any]) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                resp = client.get("/api/v1/kpis")
                body = resp.json()
                seen.append(
                    (
                        resp.status_code,
                        body.get("net_sales"),
                        body.get("lines"),
                        resp.headers.get("x-salespipe-snapshot"),
                        time.perf_counter() - started,
                    )
                )
            except Exception as exc:  # every failure is recorded, none may happen
                seen.append(("error", repr(exc), None, None, 0.0))
            time.sleep(0.01)  # continuous, yet leaving the loader some CPU on small machines


def test_readers_see_only_committed_loads(tmp_path: Path) -> None:
    config = make_project(tmp_path, days=3, rows_per_day=300, split="none")
    generate(
        tmp_path,
        days=BIG_DAYS,
        rows_per_day=BIG_ROWS_PER_DAY,
        start="2025-03-01",
        split="none",
        seed=7,
    )
    with serve(config) as server:
        before = server.get("/api/v1/kpis").json()
        stop = threading.Event()
        seen: list[Any] = []
        poller = threading.Thread(target=poll_kpis, args=(server, stop, seen))
        poller.start()
        try:
            command = ["-m", "salespipe.cli.app", "--config", str(config), "run", "--json"]
            run = subprocess.Popen(
                [sys.executable, *command],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            # While it loads: the server says so, and refuses a second run.
            running = None
            for _ in range(400):
                running = server.get("/api/v1/runs").json()["running_job"]
                if running or run.poll() is not None:
                    break
                time.sleep(0.01)
            assert running is not None and running["state"] == "running"
            assert_error(httpx.post(server.url + "/api/v1/runs"), 409, "RunInProgress", None)
            out, err = run.communicate(timeout=120)
            polls_during_run = len(seen)
            time.sleep(0.3)
        finally:
            stop.set()
            poller.join()
        after = server.get("/api/v1/kpis").json()
        assert run.returncode == 0, err
        result = json.loads(out)
        assert result["status"] == "ok" and result["totals"]["loaded"] == 1
        assert "checks" in result  # the same object as `salespipe run --json` without a server
        loaded = result["totals"]["rows_loaded"]
        assert loaded > 150_000
        assert after["lines"] == before["lines"] + loaded

        errors = [s for s in seen if s[0] != 200]
        assert errors == []
        old = (before["net_sales"], before["lines"])
        new = (after["net_sales"], after["lines"])
        assert old != new
        states = [(s[1], s[2]) for s in seen]
        assert set(states) <= {old, new}, set(states) - {old, new}
        first_new = states.index(new)
        assert all(s == old for s in states[:first_new])
        assert all(s == new for s in states[first_new:])  # never back to the old state
        assert first_new >= 10 and polls_during_run > 20  # the reads really overlapped the load
        slowest = max(s[4] for s in seen)
        assert slowest < 10, slowest

        # The CLI printed what the server ran: the job is in the ledger too.
        assert server.get("/api/v1/runs").json()["runs"][0]["run_id"] == result["run_id"]


def test_discovery_file_lifecycle(tmp_path: Path) -> None:
    config = make_project(tmp_path, days=2, rows_per_day=100, split="none")
    discovery = tmp_path / "warehouse.duckdb.server.json"
    direct = cli("--config", config, "kpi", "--json").json()

    # Stale files are ignored: a dead pid, or a live pid that is no server.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid in (dead.pid, 1):
        discovery.write_text(
            json.dumps(
                {"pid": pid, "host": "127.0.0.1", "port": 9, "token": "x", "started_at": ""}
            ),
            encoding="utf-8",
        )
        result = cli("--config", config, "kpi", "--json")
        assert result.code == 0 and result.json() == direct

    # A server replaces a stale file, and removes its own on SIGTERM and on SIGINT.
    for sig, codes in ((signal.SIGTERM, (0, -signal.SIGTERM)), (signal.SIGINT, (130, 0))):
        with serve(config) as server:
            assert json.loads(discovery.read_text())["pid"] == server.proc.pid
            assert cli("--config", config, "kpi", "--json").json() == direct
            code = server.stop(sig)
        assert code in codes, (sig, code, server.log.read_text())
        assert not discovery.exists(), sig
