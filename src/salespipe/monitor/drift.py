"""Schema drift: each file of a source's latest run against the source's established
schema, the columns that at least half of its previous files had (the ledger keeps every
file's raw columns). An added column is a warning, a missing one an error; a column
that changed its type or format shows as most rows failing to parse one way."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import duckdb

from salespipe.config.model import Config, MonitorSettings
from salespipe.monitor.ledger_checks import latest_run_files
from salespipe.monitor.model import Finding, Observation

PARSE_CODES = ("bad_number", "bad_timestamp")
MISSING_COLUMN = "missing_column:"
BEFORE_RETYPE = Decimal("0.01")  # earlier files failed to parse at most this share


def _files_before(
    con: duckdb.DuckDBPyConnection, source: str, file_id: int, count: int
) -> list[dict[str, Any]]:
    cursor = con.execute(
        "SELECT file_id, columns, rows_in, reasons FROM files WHERE source = ? AND file_id < ? "
        "AND status IN ('loaded', 'rejected') AND columns IS NOT NULL "
        "AND json_array_length(columns) > 0 ORDER BY file_id DESC LIMIT ?",
        [source, file_id, count],
    )
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _parse_share(file: dict[str, Any], code: str) -> Decimal:
    rows = int(file["rows_in"] or 0)
    if not rows:
        return Decimal(0)
    return Decimal(int(json.loads(file["reasons"] or "{}").get(code, 0))) / rows


def _rejected(file: dict[str, Any], source: str, prefix: str) -> list[Observation]:
    """A file rejected for a missing required column (reason code missing_column:<field>)."""
    error = str(file["error"] or "")
    if not error.startswith(MISSING_COLUMN):
        return []
    field = error.removeprefix(MISSING_COLUMN).split(":", 1)[0]
    key = f"{prefix}missing:{field}"
    finding = Finding(
        kind="drift",
        key=key,
        subject=source,
        severity="error",
        day=file["max_date"],
        message=f"{source}: {file['name']} (file {file['file_id']}) lacks the required column "
        f"'{field}' and was rejected",
        source=source,
    )
    return [Observation(key, None, finding, source)]  # its other columns are unknown


def schema_drift(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    settings: MonitorSettings,
    active_keys: set[str],
) -> list[Observation]:
    check = settings.drift
    out: list[Observation] = []
    for source in config.sources:
        prefix = f"drift|{source.name}|"
        for file in latest_run_files(con, source.name):
            columns = json.loads(file["columns"] or "[]")
            if not columns:  # rejected before its columns were recorded
                out.extend(_rejected(file, source.name, prefix))
                continue
            before = _files_before(con, source.name, int(file["file_id"]), check.history_files)
            if not before:
                continue
            seen = Counter(c for f in before for c in json.loads(f["columns"]))
            established = {c for c, n in seen.items() if 2 * n >= len(before)}
            findings: dict[str, Finding] = {}
            day = file["max_date"]
            where = f"{file['name']} (file {file['file_id']})"
            unused = set(json.loads(file["unused_columns"] or "[]"))
            for column in sorted(set(columns) - established):
                note = ", not mapped by the contract" if column in unused else ""
                findings[f"{prefix}added:{column}"] = Finding(
                    kind="drift",
                    key=f"{prefix}added:{column}",
                    subject=source.name,
                    severity="warning",
                    day=day,
                    message=f"{source.name}: new column '{column}' in {where}{note}",
                    source=source.name,
                )
            for column in sorted(established - set(columns)):
                findings[f"{prefix}missing:{column}"] = Finding(
                    kind="drift",
                    key=f"{prefix}missing:{column}",
                    subject=source.name,
                    severity="error",
                    day=day,
                    message=f"{source.name}: column '{column}' is missing from {where}; "
                    f"{seen[column]} of the {len(before)} files before it had it",
                    source=source.name,
                )
            for code in PARSE_CODES:
                share = _parse_share(file, code)
                usual = max(_parse_share(f, code) for f in before)
                if share >= Decimal(str(check.retype_share)) and usual <= BEFORE_RETYPE:
                    findings[f"{prefix}retyped:{code}"] = Finding(
                        kind="drift",
                        key=f"{prefix}retyped:{code}",
                        subject=source.name,
                        severity="error",
                        day=day,
                        observed=share.quantize(Decimal("0.0001")),
                        expected=usual.quantize(Decimal("0.0001")),
                        message=f"{source.name}: {share:.0%} of the rows of {where} fail "
                        f"{code} (earlier files: {usual:.0%}): a column changed its type "
                        f"or format",
                        source=source.name,
                    )
            out.extend(Observation(k, None, f, source.name) for k, f in findings.items())
            out.extend(
                Observation(k, None, None, source.name)
                for k in sorted(active_keys)
                if k.startswith(prefix) and k not in findings
            )
    return out
