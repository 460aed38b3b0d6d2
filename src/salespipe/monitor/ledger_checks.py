"""Checks on the ledger: quarantine rate, pipeline errors, data-test results and run
duration. Each looks at the newest evidence (a source's latest run, a test's latest
result) and says, per key, whether something is wrong or fine."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from statistics import median
from typing import Any

import duckdb

from salespipe.config.model import Config, MonitorSettings
from salespipe.monitor.model import Finding, Observation

# Commands whose runs load files (the monitor's own runs and refreshes do not count).
LOAD_COMMANDS_EXCLUDED = ("monitor", "refresh", "check")


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the warehouse has this table (older warehouses lack the newer ones)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ?",
            [name],
        ).fetchall()[0][0]
    )


def latest_run_files(con: duckdb.DuckDBPyConnection, source: str) -> list[dict[str, Any]]:
    """The files of the newest run that brought files of `source` (skipped ones aside)."""
    return _dicts(
        con.execute(
            """
            SELECT * FROM files WHERE source = ? AND status <> 'skipped' AND run_id = (
                SELECT run_id FROM files WHERE source = ? AND status <> 'skipped'
                ORDER BY file_id DESC LIMIT 1)
            ORDER BY file_id
            """,
            [source, source],
        )
    )


def quarantine_rate(
    con: duckdb.DuckDBPyConnection, config: Config, settings: MonitorSettings
) -> list[Observation]:
    check = settings.quarantine_rate
    out: list[Observation] = []
    for source in config.sources:
        key = f"quarantine_rate|{source.name}"
        files = [f for f in latest_run_files(con, source.name) if f["status"] == "loaded"]
        rows_in = sum(int(f["rows_in"] or 0) for f in files)
        if rows_in < check.min_rows:
            continue
        quarantined = sum(int(f["rows_quarantined"] or 0) for f in files)
        rate = Decimal(quarantined) / Decimal(rows_in)
        severity = (
            "error"
            if rate >= Decimal(str(check.error))
            else "warning"
            if rate >= Decimal(str(check.warning))
            else None
        )
        if severity is None:
            out.append(Observation(key, None, None, source.name))
            continue
        reasons: dict[str, int] = {}
        for f in files:
            for code, n in json.loads(f["reasons"] or "{}").items():
                reasons[code] = reasons.get(code, 0) + int(n)
        top = ", ".join(f"{c} {n:,}" for c, n in sorted(reasons.items(), key=lambda x: -x[1])[:3])
        limit = check.error if severity == "error" else check.warning
        days = [f["max_date"] for f in files if f["max_date"]]
        out.append(
            Observation(
                key,
                None,
                Finding(
                    kind="quarantine_rate",
                    key=key,
                    subject=source.name,
                    severity=severity,
                    day=max(days) if days else None,
                    observed=rate.quantize(Decimal("0.0001")),
                    expected=Decimal(str(limit)),
                    message=(
                        f"{source.name}: {rate:.1%} of {rows_in:,} rows quarantined in run "
                        f"{files[0]['run_id']} ({top}); see `salespipe quarantine list "
                        f"--source {source.name}`"
                    ),
                    source=source.name,
                ),
                source.name,
            )
        )
    return out


def pipeline_errors(con: duckdb.DuckDBPyConnection, config: Config) -> list[Observation]:
    """Failed or rejected files of each source's latest run, and a run that errored."""
    out: list[Observation] = []
    for source in config.sources:
        key = f"error|{source.name}"
        files = latest_run_files(con, source.name)
        if not files:
            continue
        bad = [f for f in files if f["status"] in ("failed", "rejected")]
        if not bad:
            out.append(Observation(key, None, None, source.name))
            continue
        shown = "; ".join(f"{f['name']}: {f['error']}" for f in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        days = [f["max_date"] for f in bad if f["max_date"]]
        out.append(
            Observation(
                key,
                None,
                Finding(
                    kind="error",
                    key=key,
                    subject=source.name,
                    severity="error",
                    day=max(days) if days else None,
                    observed=Decimal(len(bad)),
                    expected=Decimal(0),
                    message=f"{source.name}: {len(bad)} of {len(files)} file(s) of run "
                    f"{bad[0]['run_id']} not loaded: {shown}{more}",
                    source=source.name,
                ),
                source.name,
            )
        )
    marks = ", ".join("?" for _ in LOAD_COMMANDS_EXCLUDED)
    runs = _dicts(
        con.execute(
            f"SELECT run_id, command, status, error FROM runs WHERE status <> 'running' "
            f"AND command NOT IN ({marks}) ORDER BY started_at DESC LIMIT 1",
            list(LOAD_COMMANDS_EXCLUDED),
        )
    )
    if runs:
        run = runs[0]
        key = "error|pipeline"
        if run["status"] == "error":
            finding = Finding(
                kind="error",
                key=key,
                subject="pipeline",
                severity="critical",
                message=f"run {run['run_id']} ({run['command']}) stopped: {run['error']}",
            )
            out.append(Observation(key, None, finding, "pipeline"))
        else:
            out.append(Observation(key, None, None, "pipeline"))
    return out


def data_tests(con: duckdb.DuckDBPyConnection) -> list[Observation]:
    """The latest result of every data test (table check_results, written by the checks
    stage): failing or erroring tests are findings, passing ones clear."""
    if not has_table(con, "check_results"):
        return []
    rows = _dicts(
        con.execute(
            """
            SELECT name, kind, target, status, failures, message, run_id FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY name ORDER BY checked_at DESC, run_id DESC) AS newest
                FROM check_results) AS results
            WHERE newest = 1
            ORDER BY name
            """
        )
    )
    out: list[Observation] = []
    for r in rows:
        key = f"data_test|{r['name']}"
        subject = str(r["target"] or r["name"])
        if r["status"] == "pass":
            out.append(Observation(key, None, None, subject))
        elif r["status"] in ("fail", "error"):
            finding = Finding(
                kind="data_test",
                key=key,
                subject=subject,
                severity="error",
                observed=Decimal(int(r["failures"] or 0)),
                expected=Decimal(0),
                message=f"data test {r['name']} {r['status']}ed in run {r['run_id']}: "
                f"{r['message']}; see `salespipe check`",
            )
            out.append(Observation(key, None, finding, subject))
    return out


def run_duration(con: duckdb.DuckDBPyConnection, settings: MonitorSettings) -> list[Observation]:
    """The newest load against a robust line through earlier loads: a fixed part (marts,
    checks) plus a part per row in (Theil-Sen slope, median intercept)."""
    check = settings.runtime
    marks = ", ".join("?" for _ in LOAD_COMMANDS_EXCLUDED)
    runs = con.execute(
        f"SELECT run_id, rows_in, seconds FROM runs WHERE status IN ('ok', 'failed') "
        f"AND rows_in > 0 AND seconds IS NOT NULL AND command NOT IN ({marks}) "
        f"ORDER BY started_at DESC LIMIT ?",
        [*LOAD_COMMANDS_EXCLUDED, check.history_runs + 1],
    ).fetchall()
    key = "runtime|pipeline"
    if len(runs) < check.min_history + 1:
        return []
    (run_id, rows, seconds), history = runs[0], runs[1:]
    slopes = [
        (s2 - s1) / (r2 - r1)
        for i, (_, r1, s1) in enumerate(history)
        for (_, r2, s2) in history[i + 1 :]
        if r2 != r1
    ]
    slope = max(median(slopes), 0.0) if slopes else 0.0
    intercept = median(s - slope * r for _, r, s in history)
    expected = max(intercept + slope * rows, 0.0)
    if seconds >= check.factor * expected and seconds - expected >= check.min_seconds:
        finding = Finding(
            kind="runtime",
            key=key,
            subject="pipeline",
            severity=check.severity,
            observed=Decimal(str(round(seconds, 3))),
            expected=Decimal(str(round(expected, 3))),
            message=f"run {run_id} took {seconds:.1f}s for {rows:,} rows; earlier runs "
            f"suggest about {expected:.1f}s",
        )
        return [Observation(key, None, finding, "pipeline")]
    return [Observation(key, None, None, "pipeline")]


def touched_days(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, date]:
    """Per source, the first business day a run's loads touched."""
    return {
        str(source): day
        for source, day in con.execute(
            "SELECT source, min(min_date) FROM files WHERE run_id = ? AND status = 'loaded' "
            "AND min_date IS NOT NULL GROUP BY source",
            [run_id],
        ).fetchall()
    }
