"""`salespipe dashboard`: find the API that owns the configured warehouse (or start one),
then run Streamlit on the dashboard's entry point; stop what it started on exit.

The dashboard reads only through the API, so it never takes DuckDB's lock: loads go on
while people watch.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from salespipe.config.model import Config
from salespipe.dashboard.settings import Settings
from salespipe.errors import MissingExtraError, UsageError, WarehouseError

APP = Path(__file__).resolve().parent / "app.py"
START_TIMEOUT = 120.0


@dataclass
class ApiEndpoint:
    url: str
    key: str | None
    process: subprocess.Popen[bytes] | None = None  # a server this command started

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a child we started; kill it if it does not exit within 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def is_loopback(host: str) -> bool:
    from ipaddress import ip_address

    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            field="--port",
            hint="pick a free port with --port",
        ) from None


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=5) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_api(config_path: Path | None, warehouse: Path) -> ApiEndpoint:
    """`salespipe serve --port 0` for the config, as a child; its discovery file says where."""
    from salespipe.api.discovery import discovery_path, read_discovery

    command = [sys.executable, "-m", "salespipe.cli.app"]
    if config_path is not None:
        command += ["--config", str(config_path)]
    command += ["serve", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(command)
    endpoint = ApiEndpoint("", None, process)
    discovery = discovery_path(warehouse)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise WarehouseError(
                f"`salespipe serve` exited with code {process.returncode} before answering",
                hint="its message is above; fix it, or start the API yourself and pass --api",
            )
        if time.monotonic() > deadline:
            endpoint.stop()
            raise WarehouseError(
                f"`salespipe serve` did not answer within {START_TIMEOUT:.0f} s",
                hint="start it yourself with `salespipe serve` and pass --api",
            )
        info = read_discovery(discovery)
        if info is not None and info.pid == process.pid and _healthy(info.url):
            endpoint.url, endpoint.key = info.url, info.token
            return endpoint
        time.sleep(0.1)


def resolve_api(
    config: Config | None, config_path: Path | None, api: str | None, api_key: str | None
) -> ApiEndpoint:
    """The API to read: --api, else the server owning the warehouse, else a new one."""
    if api:
        return ApiEndpoint(api.rstrip("/"), api_key)
    if config is None:
        raise UsageError("no API to read from", hint="pass --api URL, or --config salespipe.yaml")
    from salespipe.api.client import ServerClient, find_server
    from salespipe.api.discovery import discovery_path, read_discovery
    from salespipe.warehouse import is_postgres, warehouse_path

    if is_postgres(config):
        # The CLI never delegates to a PostgreSQL server, but the dashboard reads
        # through one: reuse the one this config started, if it answers.
        info = read_discovery(discovery_path(warehouse_path(config)))
        running = ServerClient(info) if info is not None else None
        if running is not None and not running.healthy():
            running = None
    else:
        running = find_server(config)
    if running is not None:
        return ApiEndpoint(running.info.url, api_key or running.info.token)
    return start_api(config_path, warehouse_path(config))


def streamlit_command(settings: Settings, host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "salespipe.dashboard.server",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--client.showErrorDetails",
        "none",
        "--theme.base",
        "light",
        "--theme.primaryColor",
        "#1f77b4",
        "--",
        *settings.to_args(),
    ]


def run_dashboard(
    config: Config | None,
    *,
    config_path: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8501,
    api: str | None = None,
    api_key: str | None = None,
    public: bool = False,
    announce: Callable[[str], None] = print,
) -> int:
    """Serve the dashboard until interrupted; returns Streamlit's exit code."""
    if importlib.util.find_spec("streamlit") is None:
        raise MissingExtraError("streamlit", "dashboard")
    if importlib.util.find_spec("plotly") is None:
        raise MissingExtraError("plotly", "dashboard")
    if not public and not is_loopback(host):
        raise UsageError(
            f"refusing to listen on {host}: the dashboard has no login of its own",
            field="--host",
            hint="serve it on 127.0.0.1 behind a reverse proxy that authenticates, "
            "or pass --public",
        )
    check_port(host, port)
    endpoint = resolve_api(config, config_path, api, api_key)
    settings = Settings(
        api_url=endpoint.url, api_key=endpoint.key, currency=config.currency if config else None
    )
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    process: subprocess.Popen[bytes] | None = None
    try:
        process = subprocess.Popen(
            streamlit_command(settings, host, port), env={**os.environ, **settings.environ()}
        )
        shown = f"[{host}]" if ":" in host else host
        owned = " (started for this dashboard)" if endpoint.process else ""
        announce(f"salespipe dashboard on http://{shown}:{port} reading {endpoint.url}{owned}")
        return process.wait()
    except KeyboardInterrupt:
        return 0 if stopping or process is None else 130
    finally:
        if process is not None:
            stop_process(process)
        endpoint.stop()
        signal.signal(signal.SIGTERM, previous)
