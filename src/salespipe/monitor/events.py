"""monitor_events: findings become events, events live (open, acknowledged) until the check
that raised them sees their key fine again, then they are resolved.

One active event per key. A daily finding (one subject, one day) extends the subject's
active event; a later day judged fine resolves it; re-judging an old day that is fine
now (late data) only drops that day. Every day an event covers is kept in
monitor_event_days, which the seasonal baselines leave out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from salespipe.errors import UsageError
from salespipe.monitor.ledger_checks import has_table
from salespipe.monitor.model import ACTIVE, EVENT_COLUMNS, Event, Observation, severity_rank

_SELECT = "SELECT " + ", ".join(EVENT_COLUMNS) + " FROM monitor_events"


@dataclass
class Changes:
    """What one monitor pass did to the events."""

    opened: list[Event] = field(default_factory=list)  # new this pass (maybe resolved again)
    escalated: list[Event] = field(default_factory=list)  # active, severity went up
    resolved: list[Event] = field(default_factory=list)  # opened before this pass, now fine
    seen: list[Event] = field(default_factory=list)  # active and found again


def _event(row: tuple[Any, ...]) -> Event:
    return Event(**dict(zip(EVENT_COLUMNS, row, strict=True)))


def events(
    con: duckdb.DuckDBPyConnection,
    *,
    states: tuple[str, ...] = ACTIVE,
    limit: int | None = None,
) -> list[Event]:
    """Events in the given states, newest first."""
    if not has_events_table(con):
        return []
    marks = ", ".join("?" for _ in states)
    sql = f"{_SELECT} WHERE state IN ({marks}) ORDER BY id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_event(r) for r in con.execute(sql, list(states)).fetchall()]


def event(con: duckdb.DuckDBPyConnection, event_id: int) -> Event:
    rows = (
        con.execute(f"{_SELECT} WHERE id = ?", [event_id]).fetchall()
        if has_events_table(con)
        else []
    )
    if not rows:
        raise UsageError(f"no monitor event {event_id}", hint="see the ids: salespipe monitor list")
    return _event(rows[0])


def has_events_table(con: duckdb.DuckDBPyConnection) -> bool:
    return has_table(con, "monitor_events")


def acknowledge(con: duckdb.DuckDBPyConnection, event_id: int, now: datetime) -> Event:
    """Someone is on it: no more reminders (a resolution is still announced)."""
    current = event(con, event_id)
    if not current.active:
        raise UsageError(f"monitor event {event_id} is already resolved")
    con.execute(
        "UPDATE monitor_events SET state = 'acknowledged', acknowledged_at = ? WHERE id = ?",
        [now, event_id],
    )
    return event(con, event_id)


def snooze(con: duckdb.DuckDBPyConnection, event_id: int, until: datetime) -> Event:
    """No alert about this event (reminder, escalation, resolution) before `until`."""
    current = event(con, event_id)
    if not current.active:
        raise UsageError(f"monitor event {event_id} is already resolved")
    con.execute("UPDATE monitor_events SET snoozed_until = ? WHERE id = ?", [until, event_id])
    return event(con, event_id)


def excluded_days(
    con: duckdb.DuckDBPyConnection, source: str, since: date, adapt_after_days: int
) -> dict[str, set[date]]:
    """Per subject of a source, the days its events cover: the baselines leave them out,
    except for events that lasted `adapt_after_days` or more (the new normal)."""
    rows = con.execute(
        """
        SELECT d.subject, d.day FROM monitor_event_days d JOIN monitor_events e ON e.id = d.event_id
        WHERE e.source = ? AND d.day >= ?
          AND (SELECT count(*) FROM monitor_event_days x WHERE x.event_id = d.event_id) < ?
        """,
        [source, since, adapt_after_days],
    ).fetchall()
    out: dict[str, set[date]] = {}
    for subject, day in rows:
        out.setdefault(str(subject), set()).add(day)
    return out


class EventLedger:
    """Applies one pass's observations to monitor_events, in order."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
        self.con = con
        self.run_id = run_id
        self.now = now
        self.changes = Changes()
        self._active = {e.key: e for e in events(con)}
        self._dirty: dict[int, Event] = {}
        self._days: dict[tuple[str, date], int] = {}  # (key, day) -> event id, when recorded

    def load_days(self, keys_since: date) -> None:
        """Know which (key, day) pairs are recorded from `keys_since` on."""
        for key, day, event_id in self.con.execute(
            "SELECT e.key, d.day, d.event_id FROM monitor_event_days d "
            "JOIN monitor_events e ON e.id = d.event_id WHERE d.day >= ?",
            [keys_since],
        ).fetchall():
            self._days[(str(key), day)] = int(event_id)

    def apply(self, observation: Observation) -> None:
        finding = observation.finding
        current = self._active.get(observation.key)
        if finding is not None:
            if current is None:
                current = self._open(observation)
            else:
                self._update(current, observation)
            if observation.day is not None:  # a daily finding: its day leaves the baseline
                self._record_day(current, observation)
            return
        day = observation.day
        if day is not None and (observation.key, day) in self._days:
            self._drop_day(observation.key, day)
        if current is not None and (day is None or current.day is None or day >= current.day):
            self._resolve(current)

    def flush(self) -> Changes:
        for e in self._dirty.values():
            self.con.execute(
                "UPDATE monitor_events SET severity = ?, day = ?, observed = ?, expected = ?, "
                "message = ?, state = ?, last_seen_at = ?, resolved_at = ?, last_run_id = ?, "
                "resolved_run_id = ? WHERE id = ?",
                [
                    e.severity,
                    e.day,
                    e.observed,
                    e.expected,
                    e.message,
                    e.state,
                    e.last_seen_at,
                    e.resolved_at,
                    e.last_run_id,
                    e.resolved_run_id,
                    e.id,
                ],
            )
        self._dirty.clear()
        return self.changes

    # -- transitions ----------------------------------------------------------

    def _open(self, observation: Observation) -> Event:
        f = observation.finding
        assert f is not None
        row = self.con.execute(
            "INSERT INTO monitor_events (kind, severity, subject, day, observed, expected, "
            "message, state, opened_at, last_seen_at, source, key, first_day, run_id, "
            "last_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                f.kind,
                f.severity,
                f.subject,
                f.day,
                f.observed,
                f.expected,
                f.message,
                self.now,
                self.now,
                f.source,
                f.key,
                f.day,
                self.run_id,
                self.run_id,
            ],
        ).fetchall()
        created = Event(
            id=int(row[0][0]),
            kind=f.kind,
            severity=f.severity,
            subject=f.subject,
            day=f.day,
            observed=f.observed,
            expected=f.expected,
            message=f.message,
            state="open",
            opened_at=self.now,
            last_seen_at=self.now,
            resolved_at=None,
            snoozed_until=None,
            source=f.source,
            key=f.key,
            first_day=f.day,
            acknowledged_at=None,
            notified_at=None,
            notified_severity=None,
            run_id=self.run_id,
            last_run_id=self.run_id,
            resolved_run_id=None,
        )
        self._active[f.key] = created
        self.changes.opened.append(created)
        return created

    def _update(self, current: Event, observation: Observation) -> None:
        f = observation.finding
        assert f is not None
        if f.day is None or current.day is None or f.day >= current.day:
            current.day = f.day
            current.observed, current.expected, current.message = f.observed, f.expected, f.message
        if severity_rank(f.severity) > severity_rank(current.severity):
            current.severity = f.severity
            if current.run_id != self.run_id and current not in self.changes.escalated:
                self.changes.escalated.append(current)
        current.last_seen_at = self.now
        current.last_run_id = self.run_id
        if current.run_id != self.run_id and current not in self.changes.seen:
            self.changes.seen.append(current)
        self._dirty[current.id] = current

    def _resolve(self, current: Event) -> None:
        current.state = "resolved"
        current.resolved_at = self.now
        current.resolved_run_id = self.run_id
        del self._active[current.key]
        self._dirty[current.id] = current
        if current.run_id != self.run_id:
            self.changes.resolved.append(current)

    def _record_day(self, current: Event, observation: Observation) -> None:
        f = observation.finding
        assert f is not None and f.day is not None
        key = (f.key, f.day)
        if key in self._days:
            self.con.execute(
                "UPDATE monitor_event_days SET observed = ?, expected = ? "
                "WHERE event_id = ? AND day = ?",
                [f.observed, f.expected, self._days[key], f.day],
            )
            return
        self.con.execute(
            "INSERT INTO monitor_event_days VALUES (?, ?, ?, ?, ?)",
            [current.id, f.subject, f.day, f.observed, f.expected],
        )
        self._days[key] = current.id

    def _drop_day(self, key: str, day: date) -> None:
        event_id = self._days.pop((key, day))
        self.con.execute(
            "DELETE FROM monitor_event_days WHERE event_id = ? AND day = ?", [event_id, day]
        )
