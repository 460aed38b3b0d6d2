"""The monitor over a real warehouse: events from every check, their life (open,
acknowledged, snoozed, resolved), the stage timings, the health snapshot and the CLI."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from salespipe.config import load_config
from salespipe.generate import GenerateOptions, generate_sales
from salespipe.monitor import health_path, monitor_now
from salespipe.warehouse import open_warehouse

from .conftest import HEADER, Project, line, warehouse_for
from .test_alerts import Receiver
from .test_alerts import receiver as receiver  # the fixture, requested by name

CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
timezone: UTC
sources:
  - name: pos
    landing: landing/pos
    pattern: "*.csv"
    formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
"""
HISTORY_DAYS = 63
EVENT_FIELDS = {"id", "kind", "severity", "subject", "day", "observed", "expected", "message"}


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nine weeks of four stores' sales loaded; the next days' files kept aside."""
    root = tmp_path_factory.mktemp("history")
    report = generate_sales(
        GenerateOptions(
            out=root / "days", days=HISTORY_DAYS + 3, rows_per_day=400, stores=4,
            products=80, customers=400, seed=5,
        )
    )  # fmt: skip
    header: list[str] = []
    rows: list[dict[str, str]] = []
    for path in report.files[:HISTORY_DAYS]:
        header, day = read_rows(path)
        rows += day
    write_rows(root / "landing" / "pos" / "history.csv", header, rows)
    project = Project(root)
    project.write_config(CONFIG)
    assert project.run()["status"] == "ok"
    return root


@pytest.fixture
def shop(history: Path, tmp_path: Path) -> Project:
    root = tmp_path / "shop"
    shutil.copytree(history, root)
    return Project(root)


def next_day(project: Project, k: int) -> tuple[list[str], list[dict[str, str]]]:
    """The rows of the k-th day after the history (0 = the first)."""
    return read_rows(sorted((project.root / "days").glob("*.csv"))[HISTORY_DAYS + k])


def listed(project: Project, *args: str) -> list[dict[str, Any]]:
    result = project.cli("monitor", "list", "--json", *args)
    assert result.code == 0, result.stderr
    rows: list[dict[str, Any]] = result.json()
    return rows


def test_history_alone_raises_nothing(shop: Project) -> None:
    assert listed(shop) == []
    assert listed(shop, "--all") == []
    assert shop.cli("monitor").stdout.strip() == "no open monitor events"


def test_a_silent_store_is_an_error_until_a_normal_day(shop: Project) -> None:
    header, rows = next_day(shop, 0)
    day = rows[0]["sold_at"][:10]
    write_rows(shop.landing / "d0.csv", header, [r for r in rows if r["store_id"] != "S01"])
    shop.run()
    [event] = listed(shop)
    assert EVENT_FIELDS | {"state"} <= set(event)
    assert (event["kind"], event["severity"], event["subject"], event["day"]) == (
        "volume",
        "error",
        "pos/S01",
        day,
    )
    assert event["observed"] == 0 and event["expected"] > 30 and event["state"] == "open"
    assert "no lines" in event["message"]

    header, rows = next_day(shop, 1)
    write_rows(shop.landing / "d1.csv", header, rows)
    shop.run()
    assert listed(shop) == []
    [resolved] = listed(shop, "--all")
    assert resolved["id"] == event["id"] and resolved["state"] == "resolved"
    assert resolved["resolved_at"] is not None


def test_a_partial_day_completed_by_late_data_is_resolved(shop: Project) -> None:
    header, rows = next_day(shop, 0)
    morning = [r for r in rows if r["sold_at"][11:13] < "12"]
    write_rows(shop.landing / "morning.csv", header, morning)
    shop.run()
    events = listed(shop)
    assert {e["kind"] for e in events} == {"volume"}
    assert any("partial" in e["message"] and e["subject"] == "pos" for e in events)
    write_rows(shop.landing / "afternoon.csv", header, [r for r in rows if r not in morning])
    shop.run()
    assert listed(shop) == []
    assert {e["state"] for e in listed(shop, "--all")} == {"resolved"}


def test_ack_snooze_status_and_stage_timings(shop: Project) -> None:
    header, rows = next_day(shop, 0)
    write_rows(shop.landing / "d0.csv", header, [r for r in rows if r["store_id"] != "S02"])
    shop.run()
    [event] = listed(shop)
    status = shop.cli("status")
    assert status.code == 0 and "monitor: 1 error open" in status.stdout
    assert "last run" in status.stdout and "monitor" in status.stdout
    snapshot = shop.cli("status", "--json").json()["monitor"]
    assert snapshot["status"] == "error" and snapshot["events"][0]["id"] == event["id"]
    assert json.loads(health_path(load_config(str(shop.config))).read_text()) == snapshot
    stages = [s["stage"] for s in snapshot["last_run"]["stages"]]
    assert stages[:2] == ["load", "marts"] and "monitor" in stages

    acked = shop.cli("monitor", "ack", str(event["id"]))
    assert acked.code == 0 and "acknowledged" in acked.stdout
    assert listed(shop)[0]["state"] == "acknowledged"
    before = datetime.now(UTC)
    assert shop.cli("monitor", "snooze", str(event["id"]), "--for", "2h").code == 0
    until = datetime.fromisoformat(listed(shop)[0]["snoozed_until"])
    assert timedelta(hours=1, minutes=59) < until - before < timedelta(hours=2, minutes=1)

    bad = shop.cli("monitor", "snooze", str(event["id"]), "--for", "2 fortnights")
    assert bad.code == 2 and "duration" in bad.stderr
    missing = shop.cli("monitor", "ack", "999")
    assert missing.code == 2 and "no monitor event 999" in missing.stderr

    runs = shop.cli("monitor", "runs", "--json").json()
    assert runs[0]["command"] == "run"
    load = {s["stage"]: s for s in runs[0]["stages"]}
    assert load["load"]["rows"] == len(rows) - len([r for r in rows if r["store_id"] == "S02"])
    assert {"load", "marts", "checks", "monitor"} <= set(load)


def test_the_seasonal_checks_read_and_judge_the_same_on_postgres(
    shop: Project, request: pytest.FixtureRequest
) -> None:
    """The history migrated to PostgreSQL: the daily series (medians, quantiles, local
    times, transpiled) equal DuckDB's, and the same new day raises the same events."""
    from salespipe.monitor.series import load_source_days

    url = warehouse_for("postgres", request)
    assert shop.cli("migrate", "--to", url).code == 0  # the facts and the ledger
    pg = Project(shop.root.parent / "pg")
    pg.landing.mkdir(parents=True)
    pg.write_config(CONFIG.replace("duckdb:///warehouse.duckdb", url))
    series = []
    for project in (shop, pg):
        config = load_config(str(project.config))
        with open_warehouse(config, read_only=True) as wh:
            series.append(load_source_days(wh.con, config, config.sources[0]))
    duck_days, pg_days = series
    assert duck_days is not None and pg_days is not None
    assert (pg_days.first, pg_days.last, pg_days.stores) == (
        duck_days.first,
        duck_days.last,
        duck_days.stores,
    )
    assert pg_days.day_end == duck_days.day_end
    for metric, subjects in duck_days.values.items():
        for subject, days in subjects.items():
            theirs = pg_days.values[metric][subject]
            assert theirs.keys() == days.keys(), (metric, subject)
            for day, value in days.items():  # exact, but for a double's last digits
                assert abs(theirs[day] - value) <= abs(value) * Decimal("1e-12"), (metric, day)

    header, rows = next_day(shop, 0)
    fields = ("kind", "severity", "subject", "day", "observed", "expected", "message", "state")
    found = []
    for project in (shop, pg):
        write_rows(project.landing / "d0.csv", header, [r for r in rows if r["store_id"] != "S01"])
        assert project.run()["status"] == "ok"
        found.append([{k: e[k] for k in fields} for e in listed(project, "--all")])
    assert found[0] == found[1] and found[0][0]["subject"] == "pos/S01"
    [event] = listed(pg)
    assert pg.cli("monitor", "ack", str(event["id"])).code == 0
    assert listed(pg)[0]["state"] == "acknowledged"
    assert "monitor: 1 error open" in pg.cli("status").stdout  # the health snapshot


# -- checks on the ledger, with small hand-written files, on both engines ---------------


@pytest.fixture
def project(engine_project: Project) -> Project:
    """The checks' SQL runs on DuckDB and, transpiled, on PostgreSQL: same events."""
    return engine_project


def configure(project: Project, extra: str) -> None:
    """CONFIG plus `extra`, on the project's own warehouse."""
    url = load_config(str(project.config)).warehouse
    project.write_config(CONFIG.replace("duckdb:///warehouse.duckdb", url) + extra)


def execute(project: Project, sql: str, params: list[Any] | None = None) -> None:
    """SQL in DuckDB's dialect on the project's warehouse, whichever engine it is."""
    with open_warehouse(load_config(str(project.config))) as wh:
        wh.con.execute(sql, params)


def write(project: Project, name: str, rows: list[dict[str, Any]], **kw: Any) -> None:
    project.write_csv(name, rows, **kw)


def events_now(project: Project, now: datetime | None = None) -> list[dict[str, Any]]:
    report = monitor_now(load_config(str(project.config)), now=now, send=False)
    assert report.run_id
    return listed(project)


def test_schema_drift_added_and_missing_columns(project: Project) -> None:
    for i in range(3):
        write(project, f"d{i}.csv", [line(f"T{i}", 1, sold_at=f"2025-01-0{i + 1} 10:00:00")])
    project.run()
    assert listed(project) == []
    extra = [*HEADER, "promo_code"]
    write(project, "d3.csv", [line("T3", 1, promo_code="X")], header=extra)
    project.run()
    [added] = listed(project)
    assert (added["kind"], added["severity"]) == ("drift", "warning")
    assert "promo_code" in added["message"] and "not mapped" in added["message"]
    fewer = [c for c in HEADER if c != "customer_id"]
    write(project, "d4.csv", [line("T4", 1)], header=fewer)
    project.run()
    [missing] = listed(project)  # and promo_code is gone again: that event is resolved
    assert missing["severity"] == "error" and "'customer_id' is missing" in missing["message"]
    assert {e["id"]: e["state"] for e in listed(project, "--all")} == {
        added["id"]: "resolved",
        missing["id"]: "open",
    }
    write(project, "d5.csv", [line("T5", 1)])
    project.run()
    assert listed(project) == []


def test_rejected_files_and_quarantine_rate(project: Project, receiver: Receiver) -> None:
    configure(
        project,
        "monitor:\n  quarantine_rate: {min_rows: 4}\n"
        f"alerts:\n  webhook: {{url: '{receiver.url}/hook', min_severity: warning}}\n",
    )
    write(project, "good.csv", [line(f"T{i}", 1) for i in range(4)])
    project.run()
    no_time = [c for c in HEADER if c != "sold_at"]
    bad = [line(f"Q{i}", 1, quantity="0" if i < 3 else "1") for i in range(5)]
    write(project, "a_dirty.csv", bad)
    write(project, "b_broken.csv", [line("B1", 1)], header=no_time)
    project.run()
    events = {e["kind"]: e for e in listed(project)}
    assert events["error"]["severity"] == "error" and "b_broken.csv" in events["error"]["message"]
    assert events["quarantine_rate"]["severity"] == "error"
    assert events["quarantine_rate"]["observed"] == 0.6
    assert "zero_quantity" in events["quarantine_rate"]["message"]
    assert events["drift"]["severity"] == "error" and "sold_at" in events["drift"]["message"]
    [digest] = receiver.at("/hook")  # the alert went out, once, with the three
    assert sorted(e["id"] for e in digest["events"]) == sorted(e["id"] for e in events.values())
    stages = project.cli("monitor", "runs", "--json").json()[0]["stages"]
    assert [(s["stage"], s["status"]) for s in stages][-2:] == [("monitor", "ok"), ("alerts", "ok")]
    (project.landing / "b_broken.csv").unlink()  # without an archive it would be retried
    write(project, "fine.csv", [line(f"F{i}", 1) for i in range(5)])
    project.run()
    assert listed(project) == []
    assert [e["change"] for e in receiver.at("/hook")[1]["events"]] == ["resolved"] * 3


def test_freshness_by_the_expected_time(project: Project) -> None:
    configure(
        project, "monitor:\n  freshness:\n    - {source: pos, expected_by: '09:00', lag_days: 1}\n"
    )
    write(project, "d1.csv", [line("T1", 1, sold_at="2025-01-06 10:00:00")])  # a Monday
    project.run()
    before_nine = datetime(2025, 1, 7, 8, 0, tzinfo=UTC)
    assert events_now(project, before_nine) == []
    [late] = events_now(project, datetime(2025, 1, 8, 9, 30, tzinfo=UTC))
    assert (late["kind"], late["subject"], late["day"], late["observed"]) == (
        "freshness",
        "pos",
        "2025-01-07",
        1,
    )
    assert "due by 09:00 UTC" in late["message"]
    write(project, "d2.csv", [line("T2", 1, sold_at="2025-01-07 10:00:00")])
    project.run()
    assert events_now(project, datetime(2025, 1, 8, 9, 45, tzinfo=UTC)) == []


def test_no_data_is_due_on_skipped_weekdays(project: Project) -> None:
    configure(
        project,
        "monitor:\n  freshness:\n    - {source: pos, weekdays: [mon, tue, wed, thu, fri]}\n",
    )
    write(project, "d1.csv", [line("T1", 1, sold_at="2025-01-10 10:00:00")])  # a Friday
    project.run()
    assert events_now(project, datetime(2025, 1, 13, 10, 0, tzinfo=UTC)) == []  # Monday
    assert len(events_now(project, datetime(2025, 1, 14, 10, 0, tzinfo=UTC))) == 1


def _add_runs(project: Project, seconds: list[float]) -> None:
    start = datetime.now(UTC)  # after the real run: these are the newest
    for i, s in enumerate(seconds):
        at = start + timedelta(minutes=i + 1)
        execute(
            project,
            "INSERT INTO runs (run_id, command, started_at, finished_at, status, files, "
            "rows_in, seconds) VALUES (?, 'run', ?, ?, 'ok', 1, 1000, ?) ON CONFLICT DO NOTHING",
            [f"r{i:02d}", at, at, s],
        )


def test_a_run_much_slower_than_usual(project: Project) -> None:
    write(project, "d1.csv", [line("T1", 1)])
    project.run()
    configure(project, "monitor:\n  runtime: {min_seconds: 5}\n")
    _add_runs(project, [10.0, 11.0, 9.5, 10.5, 10.0, 10.2, 48.0])
    [slow] = events_now(project)
    assert (slow["kind"], slow["subject"], slow["observed"]) == ("runtime", "pipeline", 48)
    assert 9 < slow["expected"] < 12 and "r06" in slow["message"]
    _add_runs(project, [10.0, 11.0, 9.5, 10.5, 10.0, 10.2, 48.0, 10.4])
    assert events_now(project) == []


def test_data_test_failures_come_from_the_checks_table(project: Project) -> None:
    write(project, "d1.csv", [line("T1", 1)])
    project.run()
    execute(
        project,
        "INSERT INTO check_results VALUES ('r1', 'unique_sales_daily_key', 'unique', "
        "'sales_daily', 'fail', 3, '[]', '3 duplicate keys', 0.1, now())",
    )
    [failed] = events_now(project)
    assert (failed["kind"], failed["subject"], failed["observed"]) == (
        "data_test",
        "sales_daily",
        3,
    )
    assert "unique_sales_daily_key" in failed["message"]
    execute(
        project,
        "INSERT INTO check_results VALUES ('r2', 'unique_sales_daily_key', 'unique', "
        "'sales_daily', 'pass', 0, '[]', NULL, 0.1, now() + INTERVAL 1 SECOND)",
    )
    assert events_now(project) == []


def test_monitor_can_be_switched_off_but_stages_are_recorded(project: Project) -> None:
    configure(project, "monitor:\n  enabled: false\n")
    write(project, "d1.csv", [line("T1", 1)])
    no_time = [c for c in HEADER if c != "sold_at"]
    write(project, "d2.csv", [line("T2", 1)], header=no_time)
    project.run()
    assert listed(project) == []
    stages = project.cli("monitor", "runs", "--json").json()[0]["stages"]
    assert [s["stage"] for s in stages][:1] == ["load"] and stages[0]["status"] == "failed"
    assert "monitor" not in [s["stage"] for s in stages]
    assert len(events_now(project)) == 2  # on demand it still runs: the error and the drift
