"""`salespipe demo`: sample project, run, KPIs, then the API and dashboard until stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import cli
from tests.servers import free_port


def _kpis(config: Path) -> dict[str, Any]:
    result = cli("--config", config, "kpi", "--json")
    assert result.code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def test_demo_without_servers_loads_sample_data_once(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    first = cli("demo", project, "--no-serve", "--days", "4", "--rows-per-day", "150")
    assert first.code == 0, first.stderr
    assert "net sales" in first.stdout
    assert "4 loaded" in first.stdout
    config = project / "salespipe.yaml"
    assert (project / "warehouse.duckdb").exists()
    before = _kpis(config)
    assert before["lines"] > 0

    again = cli("demo", project, "--no-serve", "--days", "4", "--rows-per-day", "150")
    assert again.code == 0, again.stderr
    assert "already has files" in again.stdout
    assert "no files to load" in again.stdout
    assert _kpis(config) == before


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = resp.read()
    return json.loads(body) if body.startswith((b"{", b"[")) else body.decode()


def _wait(url: str, process: subprocess.Popen[str], seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            return _get(url)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_demo_serves_api_and_dashboard_until_terminated(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    api, board = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salespipe.cli.app",
            "demo",
            str(project),
            "--days",
            "3",
            "--rows-per-day",
            "100",
            "--api-port",
            str(api),
            "--dashboard-port",
            str(board),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        kpis = _wait(f"http://127.0.0.1:{api}/api/v1/kpis", process)
        assert _wait(f"http://127.0.0.1:{board}/_stcore/health", process) == "ok"
        # The CLI finds the demo's server through the discovery file: the same numbers.
        assert _kpis(project / "salespipe.yaml")["net_sales"] == kpis["net_sales"]
        assert (project / "warehouse.duckdb.server.json").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{api}" in output
    assert f"http://127.0.0.1:{board}" in output
    # Both servers are gone: the discovery file is removed and the ports are free.
    assert not (project / "warehouse.duckdb.server.json").exists()
    for port in (api, board):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except OSError:
            continue
        raise AssertionError(f"port {port} still answers after the demo stopped")
