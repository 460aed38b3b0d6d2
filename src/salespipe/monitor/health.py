"""The health snapshot: a small JSON file next to the warehouse with the open events, each
source's newest data and the last run's stages. Readers need no database access, so
`salespipe status` shows it even while another process holds the warehouse."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from salespipe.config.model import Config
from salespipe.monitor.events import events
from salespipe.monitor.model import SEVERITIES, severity_rank
from salespipe.monitor.stages import run_stages
from salespipe.warehouse import warehouse_path

SHOWN_EVENTS = 20


def health_path(config: Config) -> Path:
    path = warehouse_path(config)
    return path.with_name(path.name + ".health.json")


def build_health(con: duckdb.DuckDBPyConnection, config: Config, now: datetime) -> dict[str, Any]:
    active = events(con)
    counts = {s: sum(1 for e in active if e.severity == s) for s in SEVERITIES}
    worst = max((e.severity for e in active), key=severity_rank, default=None)
    sources: dict[str, Any] = {}
    for source in config.sources:
        day, loaded_at = con.execute(
            "SELECT (SELECT max(sale_date) FROM fact_sales WHERE source = ?), "
            "(SELECT max(finished_at) FROM files WHERE source = ? AND status = 'loaded')",
            [source.name, source.name],
        ).fetchall()[0]
        sources[source.name] = {
            "last_day": day.isoformat() if day else None,
            "last_loaded_at": loaded_at.isoformat() if loaded_at else None,
        }
    last = con.execute(
        "SELECT run_id, command, status, started_at, seconds FROM runs "
        "WHERE status <> 'running' ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    last_run = None
    if last:
        run_id, command, status, started_at, seconds = last[0]
        last_run = {
            "run_id": run_id,
            "command": command,
            "status": status,
            "started_at": started_at.isoformat() if started_at else None,
            "seconds": seconds,
            "stages": [
                {k: v for k, v in stage.items() if k != "detail"}
                for stage in run_stages(con, str(run_id))
            ],
        }
    return {
        "generated_at": now.isoformat(),
        "status": worst or "ok",
        "open": counts,
        "events": [e.to_dict() for e in active[:SHOWN_EVENTS]],
        "more_events": max(len(active) - SHOWN_EVENTS, 0),
        "sources": sources,
        "last_run": last_run,
    }


def json_value(value: Any) -> Any:
    """JSON for what the monitor stores: decimals as numbers, times as ISO text."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def write_health(con: duckdb.DuckDBPyConnection, config: Config, now: datetime) -> Path:
    """Write the snapshot atomically (readers never see half a file)."""
    path = health_path(config)
    text = json.dumps(build_health(con, config, now), indent=2, default=json_value) + "\n"
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_health(config: Config) -> dict[str, Any] | None:
    path = health_path(config)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data
