"""Run the data tests, store every result under the run's id, and read them back."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from salespipe.marts.errors import database_errors
from salespipe.marts.registry import MARTS
from salespipe.quality.fact_tests import fact_tests
from salespipe.quality.mart_tests import mart_tests
from salespipe.quality.model import SAMPLE_ROWS, CheckReport, CheckResult, DataTest
from salespipe.quality.reconcile import cleanup, prepare, reconcile_tests
from salespipe.warehouse.sql import first_row, one_snapshot, step


def _mart_status(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    return {
        str(name): (str(status), note)
        for name, status, note in con.execute(
            "SELECT name, status, note FROM mart_state"
        ).fetchall()
    }


def planned_tests(
    con: duckdb.DuckDBPyConnection, file_ids: list[int] | None = None
) -> tuple[list[DataTest], list[CheckResult]]:
    """The tests to run now, and a `skipped` result for each mart that was skipped."""
    status = _mart_status(con)
    tests = fact_tests(file_ids)
    skipped: list[CheckResult] = []
    built: set[str] = set()
    for mart in MARTS:
        state, note = status.get(
            mart.name, ("missing", "not built yet: run `salespipe marts refresh`")
        )
        if state != "built":
            skipped.append(CheckResult(mart.name, "mart", mart.name, "skipped", message=note))
            continue
        built.add(mart.name)
        tests.extend(mart_tests(mart))
    # After a load (file_ids given) the cheap form of each test; `check` the thorough one.
    pending = first_row(con.execute("SELECT 1 FROM mart_dirty LIMIT 1")) is not None
    tests.extend(reconcile_tests(built, thorough=file_ids is None, pending=pending))
    return tests, skipped


def run_checks(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str | None = None,
    file_ids: list[int] | None = None,
) -> CheckReport:
    """Run every data test (fact tests limited to `file_ids` when given) and store the results."""
    started = time.perf_counter()
    report = CheckReport(run_id=run_id)
    # The fact's totals, the pending keys and every mart are read from one state of the
    # data, also while other processes load (server engines).
    with one_snapshot(con):
        tests, skipped = planned_tests(con, file_ids)
        if any(t.kind == "reconcile" for t in tests):
            prepare(con)
        try:
            report.results = [run_test(con, t) for t in tests] + skipped
        finally:
            cleanup(con)
        report.seconds = time.perf_counter() - started
        store_report(con, report)
    return report


def run_test(con: duckdb.DuckDBPyConnection, test: DataTest) -> CheckResult:
    t0 = time.perf_counter()
    result = CheckResult(test.name, test.kind, test.target, "pass")
    try:
        with step(con):
            cursor = con.execute(
                f"SELECT *, count(*) OVER () AS _failures FROM ({test.sql}) AS t LIMIT {SAMPLE_ROWS}"
            )
            rows = _dicts(cursor)
            if rows:
                result.status = "fail"
                result.failures = int(rows[0]["_failures"])
                for row in rows:
                    del row["_failures"]
                result.rows = rows
                if test.detail_sql:
                    result.rows = _dicts(con.execute(f"{test.detail_sql} LIMIT {SAMPLE_ROWS}"))
                result.message = f"{result.failures} offending row(s): {test.description}"
    except database_errors() as exc:
        result.status = "error"
        result.message = str(exc).splitlines()[0]
    result.seconds = time.perf_counter() - t0
    return result


def _plain(value: Any) -> Any:
    """JSON-safe values; decimals stay exact as text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def store_report(con: duckdb.DuckDBPyConnection, report: CheckReport) -> None:
    """Keep a report's results in check_results under its run id."""
    rows = [
        [
            report.run_id,
            r.name,
            r.kind,
            r.target,
            r.status,
            r.failures,
            json.dumps(r.rows),
            r.message,
            r.seconds,
        ]
        for r in report.results
    ]
    if not rows:
        return
    # One statement: a row at a time would commit (and sync) once per test.
    placeholders = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, now())" for _ in rows)
    con.execute(
        f"INSERT INTO check_results VALUES {placeholders}", [v for row in rows for v in row]
    )


def _order(result: CheckResult) -> tuple[int, int, str]:
    """Fact tests, then marts in their order, reconciliation last within a mart."""
    names = [m.name for m in MARTS]
    target = names.index(result.target) + 1 if result.target in names else 0
    return target, result.kind == "reconcile", result.name


def stored_report(con: duckdb.DuckDBPyConnection, run_id: str) -> CheckReport | None:
    """The results stored for a run, or None when that run ran no checks."""
    rows = con.execute(
        "SELECT name, kind, target, status, failures, rows, message, seconds FROM check_results "
        "WHERE run_id = ?",
        [run_id],
    ).fetchall()
    if not rows:
        return None
    report = CheckReport(run_id=run_id)
    for name, kind, target, status, failures, sample, message, seconds in rows:
        report.results.append(
            CheckResult(
                str(name),
                str(kind),
                str(target),
                str(status),
                int(failures or 0),
                json.loads(sample) if isinstance(sample, str) else list(sample or []),
                message,
                float(seconds or 0.0),
            )
        )
    report.results.sort(key=_order)
    report.seconds = sum(r.seconds for r in report.results)
    return report
