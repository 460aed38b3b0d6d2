"""Helpers for the API tests (no tests here): a real `salespipe serve` process on a free
port of 127.0.0.1, found through its discovery file, and a generated project."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .conftest import cli

ERROR_KEYS = {"error", "message", "hint", "file", "line", "key", "field"}

CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
timezone: UTC
currency: USD
sources:
  - name: pos
    landing: landing/pos
    pattern: "*.csv"
    formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
    key: [transaction_id, line_no]
    archive: processed/
"""


def make_project(
    root: Path,
    *,
    days: int = 6,
    rows_per_day: int = 400,
    extra_config: str = "",
    split: str = "day",
    warehouse: str = "duckdb:///warehouse.duckdb",
) -> Path:
    """A project with generated sales (a few dirty rows) loaded and marts refreshed."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "salespipe.yaml"
    text = CONFIG.replace("duckdb:///warehouse.duckdb", warehouse) + extra_config
    config.write_text(text, encoding="utf-8")
    generate(root, days=days, rows_per_day=rows_per_day, dirty_rate=0.02, split=split)
    result = cli("--config", config, "run", "--json")
    assert result.code in (0, 1), result.stderr
    return config


def generate(root: Path, **options: Any) -> None:
    args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    result = cli("generate", "--out", root / "landing" / "pos", "--json", *args)
    assert result.code == 0, result.stderr


@dataclass
class ApiServer:
    proc: subprocess.Popen[bytes]
    url: str
    info: dict[str, Any]
    discovery: Path
    log: Path

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def get(
        self, path: str, headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        return httpx.get(self.url + path, params=params, headers=headers, timeout=60)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


def discovery_file(config: Path) -> Path:
    """Where a server of this config announces itself (beside the DuckDB file, or the
    config for PostgreSQL)."""
    from salespipe.api.discovery import discovery_path
    from salespipe.config import load_config
    from salespipe.warehouse import warehouse_path

    return discovery_path(warehouse_path(load_config(config)))


def read_discovery(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


@contextmanager
def serve(
    config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> Iterator[ApiServer]:
    """`salespipe serve --port 0` as a real process; its discovery file gives the port."""
    discovery = discovery_file(config)
    log = config.parent / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "salespipe.cli.app", "--config", str(config), "serve"]
            + (list(args) if "--port" in args else [*args, "--port", "0"]),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server: ApiServer | None = None
    try:
        deadline = time.monotonic() + timeout
        while server is None:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}: {log.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(log.read_text())
            info = read_discovery(discovery)
            if info and info.get("pid") == proc.pid:
                url = f"http://127.0.0.1:{info['port']}"
                try:
                    if httpx.get(url + "/health", timeout=5).status_code == 200:
                        server = ApiServer(proc, url, info, discovery, log)
                        break
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        yield server
    finally:
        if server is not None:
            server.stop()
        elif proc.poll() is None:
            proc.kill()
            proc.wait()


def assert_error(
    resp: httpx.Response, status: int, error: str, field: str | None
) -> dict[str, Any]:
    """The one error shape, pinned: exactly these keys, the class and the parameter."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    body: dict[str, Any] = resp.json()
    assert set(body) == ERROR_KEYS, body
    assert body["error"] == error, body
    assert body["field"] == field, body
    assert isinstance(body["message"], str) and body["message"]
    return body
