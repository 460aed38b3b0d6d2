"""Which events a run's alerts mention, and how: one digest, grouped by what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from salespipe.config.model import Alerts, parse_duration
from salespipe.monitor.events import Changes, events
from salespipe.monitor.model import Event, severity_rank

NEW, WORSE, REMINDER, RESOLVED, CLEARED = "new", "escalated", "reminder", "resolved", "cleared"
CHANGES = (NEW, WORSE, REMINDER, RESOLVED, CLEARED)
TITLES = {
    NEW: "New",
    WORSE: "Worse",
    REMINDER: "Still open",
    RESOLVED: "Resolved",
    CLEARED: "Found and already cleared",
}
MARKS = {"critical": "🔴", "error": "🔴", "warning": "🟠", "info": "🔵"}
RECOVERED = "✅"


@dataclass(frozen=True)
class DigestItem:
    change: str
    event: Event

    def line(self) -> str:
        e = self.event
        mark = RECOVERED if self.change in (RESOLVED, CLEARED) else MARKS.get(e.severity, "")
        return f"{mark} [{e.severity}] {e.kind} · {e.message} (event {e.id})".strip()

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change, **self.event.to_dict()}


@dataclass
class Digest:
    run_id: str
    generated_at: datetime
    items: list[DigestItem] = field(default_factory=list)
    open_events: int = 0  # active events after the run, all severities

    def routed(self, min_severity: str) -> Digest:
        """The items a channel with this least severity receives."""
        least = severity_rank(min_severity)
        kept = [i for i in self.items if severity_rank(i.event.severity) >= least]
        return Digest(self.run_id, self.generated_at, kept, self.open_events)

    def group(self, change: str) -> list[DigestItem]:
        return [i for i in self.items if i.change == change]

    @property
    def worst(self) -> str:
        active = [i.event.severity for i in self.items if i.change not in (RESOLVED, CLEARED)]
        return max(active, key=severity_rank) if active else "ok"

    def summary(self) -> str:
        parts = []
        for change in CHANGES:
            items = self.group(change)
            if items:
                parts.append(f"{len(items)} {TITLES[change].lower()}")
        return ", ".join(parts) or "nothing to report"

    def title(self) -> str:
        return f"salespipe: {self.summary()} (run {self.run_id})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "salespipe.monitor.digest",
            "run_id": self.run_id,
            "generated_at": self.generated_at.isoformat(),
            "status": self.worst,
            "summary": self.summary(),
            "open_events": self.open_events,
            "events": [i.to_dict() for i in self.items],
        }


def build_digest(
    con: duckdb.DuckDBPyConnection,
    changes: Changes,
    settings: Alerts,
    run_id: str,
    now: datetime,
) -> Digest:
    """New and worse findings, reminders of open ones past the cooldown, recoveries.
    Snoozed events are left out; acknowledged ones get no reminders."""
    cooldown = parse_duration(settings.cooldown)
    digest = Digest(run_id, now)
    listed: set[int] = set()

    def add(change: str, event: Event) -> None:
        if event.id not in listed and not event.snoozed(now):
            digest.items.append(DigestItem(change, event))
            listed.add(event.id)

    for e in changes.opened:
        if e.active:
            add(NEW, e)
        elif settings.recoveries:
            add(CLEARED, e)
    for e in changes.escalated:
        add(WORSE if e.notified_at else NEW, e)
    active = events(con)
    for e in sorted(active, key=lambda x: x.id):
        if e.id in listed:
            continue
        if e.notified_at is None:  # never sent: below every channel until now, or failed
            add(NEW, e)
        elif e.state == "open" and now - e.notified_at >= cooldown:
            add(REMINDER, e)
    if settings.recoveries:
        for e in changes.resolved:
            if e.notified_at is not None:
                add(RESOLVED, e)
    digest.items.sort(key=lambda i: (CHANGES.index(i.change), -severity_rank(i.event.severity)))
    digest.open_events = len(active)
    return digest
