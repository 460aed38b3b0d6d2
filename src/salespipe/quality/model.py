"""Data tests and their results: a test is a query returning the offending rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("pass", "fail", "skipped", "error")
SAMPLE_ROWS = 10


@dataclass(frozen=True)
class DataTest:
    """One data test; `sql` selects the offending rows (none when the test passes)."""

    name: str
    kind: str  # unique | not_null | relationship | accepted | reconcile
    target: str  # the table tested
    sql: str
    description: str = ""
    # When the test fails: a query for the rows to show instead (a breakdown of a total).
    detail_sql: str | None = None


@dataclass
class CheckResult:
    name: str
    kind: str
    target: str
    status: str  # one of STATUSES
    failures: int = 0  # offending rows
    rows: list[dict[str, Any]] = field(default_factory=list)  # up to SAMPLE_ROWS of them
    message: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "target": self.target,
            "status": self.status,
            "failures": self.failures,
            "rows": self.rows,
            "message": self.message,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class CheckReport:
    run_id: str | None
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status in ("fail", "error")]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": "pass" if self.ok else "fail",
            "tests": len(self.results),
            "passed": sum(1 for r in self.results if r.status == "pass"),
            "failed": len(self.failed),
            "skipped": sum(1 for r in self.results if r.status == "skipped"),
            "seconds": round(self.seconds, 3),
            "results": [r.to_dict() for r in self.results],
        }
