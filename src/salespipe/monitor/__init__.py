"""Monitoring, stage `monitor` of the flow: after every run (and on demand) it judges each
source's and store's daily lines and net sales against seasonal baselines, partial days,
schema drift, quarantine rates, freshness, run duration, data tests and pipeline errors,
keeps the findings as events (monitor_events) and hands them to `salespipe.alerts`.
See docs/monitoring.md."""

from salespipe.monitor.events import acknowledge, event, events, snooze
from salespipe.monitor.health import health_path, read_health
from salespipe.monitor.model import Event, Finding, Observation
from salespipe.monitor.runner import (
    MonitorReport,
    change_event,
    monitor_after_run,
    monitor_now,
    run_monitor,
)
from salespipe.monitor.stages import recent_runs

__all__ = [
    "Event",
    "Finding",
    "MonitorReport",
    "Observation",
    "acknowledge",
    "change_event",
    "event",
    "events",
    "health_path",
    "monitor_after_run",
    "monitor_now",
    "read_health",
    "recent_runs",
    "run_monitor",
    "snooze",
]
