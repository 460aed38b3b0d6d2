"""One monitor pass: run every check, turn what they see into events (one transaction),
write the health snapshot, send the alerts and record the stages' timings."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from salespipe.config.model import Config, MonitorSettings
from salespipe.errors import SalespipeError
from salespipe.monitor.calendar import special_days
from salespipe.monitor.drift import schema_drift
from salespipe.monitor.events import (
    Changes,
    EventLedger,
    acknowledge,
    events,
    excluded_days,
    snooze,
)
from salespipe.monitor.freshness import freshness
from salespipe.monitor.health import write_health
from salespipe.monitor.ledger_checks import (
    data_tests,
    pipeline_errors,
    quarantine_rate,
    run_duration,
    touched_days,
)
from salespipe.monitor.model import Event, Finding, Observation
from salespipe.monitor.seasonal import SeasonalJudge
from salespipe.monitor.series import last_day, load_source_days
from salespipe.monitor.stages import record_load_stages, record_stage

log = logging.getLogger("salespipe.monitor")


@dataclass
class MonitorReport:
    run_id: str
    changes: Changes
    open_events: int
    seconds: float
    judged_days: dict[str, tuple[date, date]] = field(default_factory=dict)
    alerts: list[Any] = field(default_factory=list)  # DeliveryResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "opened": [e.to_dict() for e in self.changes.opened if e.active],
            "opened_and_cleared": [e.to_dict() for e in self.changes.opened if not e.active],
            "escalated": [e.to_dict() for e in self.changes.escalated],
            "resolved": [e.to_dict() for e in self.changes.resolved],
            "open_events": self.open_events,
            "judged_days": {
                s: {"from": a.isoformat(), "to": b.isoformat()}
                for s, (a, b) in self.judged_days.items()
            },
            "alerts": [a.to_dict() for a in self.alerts],
            "seconds": round(self.seconds, 3),
        }


def settings_of(config: Config) -> MonitorSettings:
    return config.monitor or MonitorSettings()


def seasonal_observations(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    settings: MonitorSettings,
    touched: dict[str, date],
    judged: dict[str, tuple[date, date]],
    now: datetime,
) -> list[Observation]:
    """Lines, net sales and partial days of each source: its latest `recheck_days` days and
    every day the run touched, with enough history before them to judge. A day still in
    progress where the source is (today, in its time zone) is not judged yet."""
    out: list[Observation] = []
    history = 7 * settings.baseline_weeks + settings.spread_days + settings.level_days + 7
    for source in config.sources:
        today = now.astimezone(ZoneInfo(config.source_timezone(source))).date()
        last = last_day(con, source.name)
        if last is None:
            continue
        last = min(last, today - timedelta(days=1))
        evaluate_from = last - timedelta(days=settings.recheck_days - 1)
        if source.name in touched:
            evaluate_from = min(evaluate_from, touched[source.name])
        data = load_source_days(con, config, source, first=evaluate_from - timedelta(days=history))
        if data is None:
            continue
        judge = SeasonalJudge(
            data,
            settings,
            special_days(settings, data.first, data.last),
            excluded_days(con, source.name, data.first, settings.adapt_after_days),
        )
        judged[source.name] = (max(evaluate_from, data.first), last)
        for j in judge.judge(evaluate_from, until=last):
            finding = (
                Finding(
                    kind=j.kind,
                    key=j.key,
                    subject=j.subject,
                    severity=j.severity,
                    message=j.message,
                    day=j.day,
                    observed=j.observed,
                    expected=j.expected,
                    source=j.source,
                )
                if j.flagged
                else None
            )
            out.append(Observation(j.key, j.day, finding, j.subject))
    out.sort(key=lambda o: o.day or date.min)  # stable: each day's verdicts stay in order
    return out


def run_monitor(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    run_id: str,
    now: datetime | None = None,
    touched: dict[str, date] | None = None,
    send: bool = True,
) -> MonitorReport:
    """Check everything, update the events, write the snapshot and send the alerts."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    settings = settings_of(config)
    judged: dict[str, tuple[date, date]] = {}
    con.execute("INSERT INTO meta VALUES ('monitor', '') ON CONFLICT DO NOTHING")
    con.execute("BEGIN TRANSACTION")
    try:
        # One pass at a time: where several processes write (PostgreSQL), a second pass
        # waits on this row until the first commits, then reads its events (a no-op with
        # a single writer). Without it, two runs could open the same event twice.
        con.execute("UPDATE meta SET value = ? WHERE key = 'monitor'", [run_id])
        ledger = EventLedger(con, run_id, now)
        seasonal = seasonal_observations(con, config, settings, touched or {}, judged, now)
        if judged:
            ledger.load_days(min(first for first, _ in judged.values()))
        for observation in seasonal:
            ledger.apply(observation)
        others: list[Observation] = []
        if settings.quarantine_rate.enabled:
            others += quarantine_rate(con, config, settings)
        if settings.drift.enabled:
            others += schema_drift(con, config, settings, {e.key for e in events(con)})
        others += pipeline_errors(con, config)
        others += data_tests(con)
        if settings.runtime.enabled:
            others += run_duration(con, settings)
        others += freshness(con, config, settings, now)
        for observation in others:
            ledger.apply(observation)
        changes = ledger.flush()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    open_events = len(events(con))
    report = MonitorReport(
        run_id, changes, open_events, time.perf_counter() - started, judged_days=judged
    )
    record_stage(con, run_id, "monitor", report.seconds, len(seasonal) + len(others), now)
    if send:
        from salespipe.alerts import deliver_alerts

        sending = time.perf_counter()
        report.alerts = deliver_alerts(con, config.alerts, changes, run_id, now)
        if report.alerts:
            failed = [a.channel for a in report.alerts if a.status != "sent"]
            record_stage(
                con,
                run_id,
                "alerts",
                time.perf_counter() - sending,
                sum(a.events for a in report.alerts),
                now,
                "failed" if failed else "ok",
                ", ".join(f"{a.channel}: {a.status}" for a in report.alerts),
            )
    write_health(con, config, now)
    return report


def duckdb_connection(con: Any) -> duckdb.DuckDBPyConnection:
    """A warehouse connection as the monitor's functions take it: its SQL is written in
    DuckDB's dialect, which PostgreSQL's connection transpiles (warehouse.postgres)."""
    typed: duckdb.DuckDBPyConnection = con
    return typed


def monitor_after_run(con: Any, config: Config, run_id: str) -> MonitorReport | None:
    """The hook at the end of every run: record its stages, then monitor and alert.
    Monitoring must never fail a load, so any error here is logged and swallowed."""
    try:
        now = datetime.now(UTC)
        record_load_stages(con, run_id, now)
        if not settings_of(config).enabled:
            return None
        return run_monitor(con, config, run_id=run_id, now=now, touched=touched_days(con, run_id))
    except SalespipeError as exc:
        log.error("the monitor could not run after run %s: %s", run_id, exc)
    except Exception:
        log.exception("the monitor failed after run %s; the run itself is not affected", run_id)
    return None


def monitor_pass(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    now: datetime | None = None,
    send: bool = True,
) -> MonitorReport:
    """A pass outside any load on an open warehouse, recorded in `runs` as command
    'monitor' (`monitor_now`, and the server's `monitor` schedule on its writer)."""
    from salespipe.ingest.run import new_run_id

    run_id = new_run_id()
    con.execute(
        "INSERT INTO runs (run_id, command, started_at, status, files) "
        "VALUES (?, 'monitor', now(), 'running', 0)",
        [run_id],
    )
    try:
        report = run_monitor(con, config, run_id=run_id, now=now, send=send)
    except BaseException as exc:
        con.execute(
            "UPDATE runs SET finished_at = now(), status = 'error', error = ? WHERE run_id = ?",
            [str(exc) or type(exc).__name__, run_id],
        )
        raise
    con.execute(
        "UPDATE runs SET finished_at = now(), status = 'ok', seconds = ? WHERE run_id = ?",
        [report.seconds, run_id],
    )
    return report


def monitor_now(
    config: Config, *, now: datetime | None = None, send: bool = True, wait: float = 0.0
) -> MonitorReport:
    """`salespipe monitor run` (and the `monitor` schedule): a pass outside any load,
    recorded in `runs` as command 'monitor'."""
    from salespipe.warehouse import open_warehouse

    with open_warehouse(config, wait=wait) as wh:
        return monitor_pass(duckdb_connection(wh.con), config, now=now, send=send)


def change_event(
    config: Config, event_id: int, *, ack: bool = False, until: datetime | None = None
) -> Event:
    """`monitor ack` / `monitor snooze`: change one event and rewrite the snapshot."""
    from salespipe.warehouse import open_warehouse

    now = datetime.now(UTC)
    with open_warehouse(config) as wh:
        con = duckdb_connection(wh.con)
        if ack:
            changed = acknowledge(con, event_id, now)
        else:
            assert until is not None
            changed = snooze(con, event_id, until)
        write_health(con, config, now)
    return changed
