"""`salespipe serve`: check the bind address, open the warehouse once, announce the
server in the discovery file, run uvicorn, and clean up on shutdown."""

from __future__ import annotations

import copy
import ipaddress
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salespipe.api.auth import KeyRing
from salespipe.api.discovery import (
    ServerInfo,
    discovery_path,
    read_discovery,
    remove_discovery,
    write_discovery,
)
from salespipe.config.model import Config
from salespipe.errors import MissingExtraError, UsageError, WarehouseError
from salespipe.query.ledger import shown_warehouse
from salespipe.warehouse import is_postgres, open_warehouse, warehouse_path

if TYPE_CHECKING:
    from salespipe.triggers.runner import Triggers, WatchOptions

log = logging.getLogger("salespipe.api")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, keys: KeyRing) -> None:
    """Without API keys the API is open, so it may only listen on this machine."""
    if not keys.configured and not is_loopback(host):
        raise UsageError(
            f"refusing to listen on {host} without API keys: anyone who can reach it "
            "could read the sales data and start loads",
            field="--host",
            key="api.keys",
            hint="add api.keys to salespipe.yaml (see docs/api.md), or serve on 127.0.0.1",
        )


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        # Listening before the discovery file exists: early clients queue, never get refused.
        sock.listen(2048)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            field="--port",
            hint="pick a free port with --port, or --port 0 for any free port",
        ) from None
    sock.set_inheritable(True)
    return sock


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with salespipe's own loggers (runs, triggers) in the same log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["salespipe"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


@dataclass
class PreparedServer:
    """A bound socket, the open warehouse and the app; `run()` serves until a signal."""

    info: ServerInfo
    discovery: Path
    warehouse: str  # as shown: the DuckDB file, or the PostgreSQL URL without its password
    keys_configured: bool
    _sock: socket.socket
    _state: Any
    _server: Any = None
    _closed: bool = False
    triggers: Triggers | None = None  # `serve --watch`

    def run(self) -> None:
        write_discovery(self.discovery, self.info)
        try:
            if self.triggers is not None:
                self.triggers.start()
            self._server.run(sockets=[self._sock])
        finally:
            self.close()

    def close(self) -> None:
        """Runs at lifespan shutdown: uvicorn re-raises SIGTERM after serving, so a
        `finally` alone would never remove the discovery file."""
        if self._closed:
            return
        self._closed = True
        remove_discovery(self.discovery, self.info.pid)
        if self.triggers is not None:
            self.triggers.stop()  # waits for a trigger's load in progress to commit
        self._state.close()
        self._sock.close()


def prepare_server(
    config: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    config_path: Path | None = None,
    log_level: str = "info",
    watch: WatchOptions | None = None,
) -> PreparedServer:
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("uvicorn", "api") from None
    try:
        import fastapi  # noqa: F401
    except ImportError:
        raise MissingExtraError("fastapi", "api") from None
    from salespipe.api.app import create_app
    from salespipe.api.state import ServerState

    check_bind(host, KeyRing.from_config(config))
    path = warehouse_path(config)
    discovery = discovery_path(path)
    token = secrets.token_urlsafe(32)
    keys = KeyRing.from_config(config, local_token=token)
    sock = _bind(host, port)
    try:
        # DuckDB: the lock decides, not the discovery file (a file left by a crash never
        # blocks). PostgreSQL: any number of servers read while `salespipe run`s write.
        warehouse = open_warehouse(config)
    except WarehouseError:
        sock.close()
        running = None if is_postgres(config) else read_discovery(discovery)
        if running is not None:
            raise WarehouseError(
                f"a server already owns {path} (PID {running.pid}, {running.url})",
                hint="use that server, or stop it first",
            ) from None
        raise
    except BaseException:
        sock.close()
        raise
    state = ServerState(config, warehouse, keys, config_path=config_path)
    triggers = None
    if watch is not None:
        from salespipe.api.triggers import server_triggers

        triggers = server_triggers(state, watch)
        try:
            triggers.prepare()  # a missing extra or a bad cron fails before serving
        except BaseException:
            state.close()
            sock.close()
            raise
    info = ServerInfo(
        pid=os.getpid(),
        host=host,
        port=int(sock.getsockname()[1]),
        token=token,
        started_at=datetime.now(UTC).isoformat(),
    )
    shown = shown_warehouse(config)
    prepared = PreparedServer(info, discovery, shown, keys.configured, sock, state)
    prepared.triggers = triggers
    app = create_app(state, on_shutdown=prepared.close)
    prepared._server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            server_header=False,
            log_config=_log_config(),
        )
    )
    return prepared
