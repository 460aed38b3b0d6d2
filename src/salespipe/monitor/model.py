"""What checks report and what the monitor stores: findings, observations, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

KINDS = (
    "volume",
    "net_sales",
    "drift",
    "quarantine_rate",
    "freshness",
    "runtime",
    "data_test",
    "error",
)
SEVERITIES = ("info", "warning", "error", "critical")
STATES = ("open", "acknowledged", "resolved")
ACTIVE = ("open", "acknowledged")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


@dataclass(frozen=True)
class Finding:
    """Something wrong, as a check sees it now."""

    kind: str
    key: str  # identity of the problem: kind|subject[|detail]; one active event per key
    subject: str  # a source, `source/store`, a mart or test, or `pipeline`
    severity: str
    message: str
    day: date | None = None
    observed: Decimal | None = None
    expected: Decimal | None = None
    source: str | None = None


@dataclass(frozen=True)
class Observation:
    """A check's verdict on one key (on one day, for daily checks): a finding, or fine."""

    key: str
    day: date | None
    finding: Finding | None
    subject: str = ""


@dataclass
class Event:
    """A row of monitor_events."""

    id: int
    kind: str
    severity: str
    subject: str
    day: date | None
    observed: Decimal | None
    expected: Decimal | None
    message: str
    state: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    snoozed_until: datetime | None
    source: str | None
    key: str
    first_day: date | None
    acknowledged_at: datetime | None
    notified_at: datetime | None
    notified_severity: str | None
    run_id: str | None
    last_run_id: str | None
    resolved_run_id: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now

    def to_dict(self) -> dict[str, Any]:
        """The public fields (`monitor list --json`, alert payloads)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "day": self.day.isoformat() if self.day else None,
            "observed": _number(self.observed),
            "expected": _number(self.expected),
            "message": self.message,
            "state": self.state,
            "opened_at": _time(self.opened_at),
            "last_seen_at": _time(self.last_seen_at),
            "resolved_at": _time(self.resolved_at),
            "snoozed_until": _time(self.snoozed_until),
        }


EVENT_COLUMNS = tuple(Event.__dataclass_fields__)


def _number(value: Decimal | None) -> Decimal | None:
    """Exact, without the storage's trailing zeros (JSON output prints it as a number)."""
    if value is None:
        return None
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
