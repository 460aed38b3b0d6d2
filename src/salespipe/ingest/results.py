"""What a run reports: per-file reconciliation and run totals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FILE_STATUSES = ("loaded", "skipped", "rejected", "failed")


@dataclass
class FileResult:
    uri: str
    source: str
    status: str  # loaded | skipped (same bytes already loaded) | rejected (whole file) | failed
    rows_in: int = 0
    rows_loaded: int = 0
    rows_updated: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    file_id: int | None = None
    error: str | None = None
    hint: str | None = None
    unused_columns: list[str] = field(default_factory=list)
    min_date: str | None = None
    max_date: str | None = None

    @property
    def reconciles(self) -> bool:
        return (
            self.rows_in
            == self.rows_loaded + self.rows_updated + self.rows_quarantined + self.rows_duplicate
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult:
    run_id: str
    files: list[FileResult]
    seconds: float

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def ok(self) -> bool:
        return all(f.status in ("loaded", "skipped") for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        totals = {
            name: self.total(name)
            for name in (
                "rows_in",
                "rows_loaded",
                "rows_updated",
                "rows_quarantined",
                "rows_duplicate",
            )
        }
        reasons: dict[str, int] = {}
        for f in self.files:
            for code, n in f.reasons.items():
                reasons[code] = reasons.get(code, 0) + n
        by_status = {s: sum(1 for f in self.files if f.status == s) for s in FILE_STATUSES}
        return {
            "run_id": self.run_id,
            "status": "ok" if self.ok else "failed",
            "files": [f.to_dict() for f in self.files],
            "totals": {"files": len(self.files), **by_status, **totals, "reasons": reasons},
            "seconds": round(self.seconds, 3),
        }
