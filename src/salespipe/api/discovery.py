"""The discovery file a running server writes next to the warehouse, and its readers.

`warehouse.duckdb.server.json` holds the pid, address and a local admin token (mode
0600) so that CLI commands on the same machine submit their work to the server instead
of failing on DuckDB's lock. A file whose pid is gone is stale and ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

SUFFIX = ".server.json"


@dataclass(frozen=True)
class ServerInfo:
    """Where a running server listens, and the token that lets local commands in."""

    pid: int
    host: str
    port: int
    token: str
    started_at: str

    @property
    def url(self) -> str:
        """A URL this machine can reach: wildcard binds are reached through loopback."""
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


def discovery_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + SUFFIX)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    return True


def write_discovery(path: Path, info: ServerInfo) -> None:
    """Write atomically, readable by the owner only (the file holds an admin token)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(info), fh)
    os.replace(tmp, path)


def read_discovery(path: Path) -> ServerInfo | None:
    """The live server announced at `path`, or None (no file, unreadable, or stale)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        info = ServerInfo(
            pid=int(data["pid"]),
            host=str(data["host"]),
            port=int(data["port"]),
            token=str(data["token"]),
            started_at=str(data.get("started_at", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if pid_alive(info.pid) else None


def remove_discovery(path: Path, pid: int) -> None:
    """Remove the file if it still announces this process (a successor may own it now)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("pid") == pid:
        with contextlib.suppress(OSError):
            path.unlink()
