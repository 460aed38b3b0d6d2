"""Hands-off ingestion: watched folders, S3 polling, Kafka events and schedules, on real parts."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from salespipe.config import load_config
from salespipe.config.model import Schedule
from salespipe.ingest.results import RunResult
from salespipe.triggers.kafka import PoisonMessage, parse_event
from salespipe.triggers.schedule import build_scheduler, next_fire_times
from salespipe.triggers.watch import Watcher

from .conftest import BASIC_CONFIG, Project, line
from .servers import moto_client, moto_s3, s3_event, tansu_kafka
from .test_s3 import csv_bytes


def wait_until(predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@contextmanager
def watching(project: Project, **options: Any) -> Iterator[list[RunResult]]:
    """The project's Watcher running on a thread; yields the runs it reports."""
    runs: list[RunResult] = []
    watcher = Watcher(load_config(project.config), on_run=runs.append, **options)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield runs
    finally:
        stop.set()
        thread.join(timeout=10)


# --- watched folders -------------------------------------------------------------------


def test_watcher_waits_for_a_file_to_settle(project: Project) -> None:
    with watching(project, settle_seconds=0.6, poll_seconds=0.2) as runs:
        time.sleep(0.3)
        path = project.landing / "slow.csv"
        full = csv_bytes([line(f"T{i}", 1) for i in range(200)])
        with path.open("wb") as fh:  # a slow writer: half now, half later
            fh.write(full[: len(full) // 2])
            fh.flush()
            time.sleep(0.5)
            assert runs == [], "a half-written file must not be read"
            fh.write(full[len(full) // 2 :])
        wait_until(lambda: any(f.status == "loaded" for r in runs for f in r.files))
        loaded = [f for r in runs for f in r.files if f.status == "loaded"]
        assert len(loaded) == 1 and loaded[0].rows_in == 200 and loaded[0].rows_quarantined == 0


def test_watcher_catches_up_on_files_that_landed_while_down(project: Project) -> None:
    old = project.write_csv("d1.csv", [line("T1", 1)])
    past = time.time() - 3600
    os.utime(old, (past, past))
    runs: list[RunResult] = []
    watcher = Watcher(load_config(project.config), settle_seconds=5, on_run=runs.append)
    watcher.catch_up()
    assert [f.status for r in runs for f in r.files] == ["loaded"]
    watcher.catch_up()  # nothing twice
    assert project.kpis()["lines"] == 1


# --- S3 polling ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


def s3_config(project: Project, endpoint: str, bucket: str, extra: str = "") -> None:
    project.write_config(
        BASIC_CONFIG.replace("landing: landing/pos", f"landing: s3://{bucket}/in")
        + "    archive: processed/\n"
        + f"s3: {{endpoint_url: '{endpoint}', region: us-east-1, access_key_id: k, secret_access_key: s}}\n"
        + extra
    )


def test_s3_polling_reads_each_object_once(project: Project, s3_endpoint: str) -> None:
    s3 = moto_client(s3_endpoint)
    s3.create_bucket(Bucket="poll")
    s3_config(project, s3_endpoint, "poll")
    with watching(project, settle_seconds=0, poll_seconds=0.2) as runs:
        s3.put_object(Bucket="poll", Key="in/a.csv", Body=csv_bytes([line("T1", 1)]))
        wait_until(lambda: loaded_rows(runs) == 1)
        s3.put_object(Bucket="poll", Key="in/b.csv", Body=csv_bytes([line("T2", 1)]))
        wait_until(lambda: loaded_rows(runs) == 2)
        time.sleep(0.6)
    loaded = [f.uri for r in runs for f in r.files]
    assert loaded == ["s3://poll/in/a.csv", "s3://poll/in/b.csv"]


def loaded_rows(runs: list[RunResult]) -> int:
    return sum(f.rows_loaded for r in runs for f in r.files)


# --- Kafka -----------------------------------------------------------------------------


def test_parse_events() -> None:
    assert parse_event(s3_event("b", "in/sales+2025.csv")) == ["s3://b/in/sales 2025.csv"]
    assert parse_event(b'{"uri": "s3://b/in/x.csv"}') == ["s3://b/in/x.csv"]
    assert parse_event(b"/data/landing/x.csv") == ["/data/landing/x.csv"]
    assert parse_event(b'{"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {}}]}') == []
    for bad in (b"", b"{not json", b'{"hello": 1}', b'{"Records": [{"s3": {}}]}'):
        with pytest.raises(PoisonMessage):
            parse_event(bad)


@pytest.fixture(scope="module")
def kafka() -> Iterator[str]:
    with tansu_kafka() as bootstrap:
        yield bootstrap


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(topic, value)
    producer.flush(10)


def drain(bootstrap: str, topic: str, expected: int, timeout: float = 20) -> list[bytes]:
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"drain-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
    )
    consumer.subscribe([topic])
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                out.append(msg.value())
    finally:
        consumer.close()
    return out


def test_kafka_events_load_exactly_once_and_poison_goes_to_dlq(
    project: Project, s3_endpoint: str, kafka: str
) -> None:
    from salespipe.triggers.kafka import EventConsumer

    s3 = moto_client(s3_endpoint)
    s3.create_bucket(Bucket="events")
    s3_config(
        project,
        s3_endpoint,
        "events",
        extra=(
            f"triggers:\n  kafka: {{bootstrap_servers: '{kafka}', topic: sales-files, group_id: sp-test, "
            "dead_letter_topic: sales-files-dlq}\n"
        ),
    )
    config = load_config(project.config)
    s3.put_object(
        Bucket="events",
        Key="in/day1.csv",
        Body=csv_bytes([line("T1", 1), line("T2", 1, price="5.00")]),
    )
    event = s3_event("events", "in/day1.csv")
    started = time.monotonic()
    produce(kafka, "sales-files", [event, event, b"{broken", b'{"uri": "s3://elsewhere/x.csv"}'])
    consumer = EventConsumer(
        config, consumer_settings={"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
    )
    stop = threading.Event()
    handled = consumer.run_forever(stop, max_messages=4)
    assert handled == 4
    assert time.monotonic() - started < 30
    k = project.kpis()
    assert k["lines"] == 2 and Decimal(str(k["net_sales"])) == Decimal("15.00")
    dead = [json.loads(v) for v in drain(kafka, "sales-files-dlq", 2)]
    assert sorted(d["reason"].split(":")[0] for d in dead) == [
        "no source lands s3",
        "not valid JSON",
    ]
    # A restarted consumer in the same group gets nothing again: the offsets were committed.
    again = EventConsumer(
        config, consumer_settings={"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
    )
    stop_soon = threading.Event()
    threading.Timer(8, stop_soon.set).start()
    assert again.run_forever(stop_soon) == 0
    assert project.kpis()["lines"] == 2


# --- schedules -------------------------------------------------------------------------


def test_schedule_fire_times_respect_time_zone() -> None:
    schedule = Schedule(cron="0 2 * * *", timezone="Europe/Paris", job="run")
    fires = next_fire_times(schedule, datetime(2025, 3, 29, 12, 0, tzinfo=UTC), count=2)
    assert (
        [f.astimezone(UTC).isoformat() for f in fires]
        == [
            "2025-03-30T01:00:00+00:00",  # 02:00 CET does not exist on the DST night: APScheduler fires at 03:00 CEST
            "2025-03-31T00:00:00+00:00",
        ]
    )


def test_scheduler_runs_the_configured_job(project: Project) -> None:
    project.write_config(
        project.config.read_text() + "schedules:\n  - {cron: '* * * * *', job: run}\n"
    )
    config = load_config(project.config)
    calls: list[str] = []
    scheduler = build_scheduler(config, {"run": lambda: calls.append("run")})
    jobs = scheduler.get_jobs()
    assert [j.name for j in jobs] == ["run * * * * * UTC"]
    scheduler.start()
    try:
        jobs[0].modify(next_run_time=datetime.now(UTC))
        wait_until(lambda: calls == ["run"], timeout=10)
    finally:
        scheduler.shutdown(wait=False)


def test_bad_cron_is_a_config_error(project: Project) -> None:
    from salespipe.errors import ConfigError

    project.write_config(
        project.config.read_text() + "schedules:\n  - {cron: 'every day', job: run}\n"
    )
    with pytest.raises(ConfigError, match="not a cron expression"):
        build_scheduler(load_config(project.config), {"run": lambda: None})


@pytest.mark.parametrize("delay", [0.8, 1.6])
def test_sigterm_stops_watch_cleanly_during_a_load(project: Project, delay: float) -> None:
    """`salespipe watch` stopped mid-load: the load commits whole (or never began), the
    process exits 0, and nothing is left half done."""
    import signal
    import subprocess
    import sys

    import duckdb

    from .test_api_support import generate

    generate(project.root / "big", days=20, rows_per_day=3000, split="none")
    big = next((project.root / "big" / "landing" / "pos").glob("*.csv"))
    rows = len(big.read_bytes().splitlines()) - 1
    project.write_config(project.config.read_text() + "    archive: processed/\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salespipe.cli.app",
            "--config",
            str(project.config),
            "watch",
            "--settle",
            "0.3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(2.5)  # started, caught up (nothing yet)
        big.rename(project.landing / big.name)
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    text = err.decode()
    assert proc.returncode == 0, text
    assert "terminate called" not in text and "Traceback" not in text, text
    archived = project.landing / "processed" / big.name
    with duckdb.connect(str(project.root / "warehouse.duckdb"), read_only=True) as con:
        lines = con.execute("SELECT count(*) FROM fact_sales").fetchall()[0][0]
        runs = con.execute("SELECT status FROM runs").fetchall()
    if archived.exists():  # the load was under way: it committed whole, its run finished
        assert lines == rows and runs == [("ok",)], (lines, runs)
    else:  # stopped before the load began: nothing of it, the file still waits
        assert lines == 0 and (project.landing / big.name).exists()


def test_watch_refuses_a_landing_folder_that_does_not_exist(project: Project) -> None:
    from .conftest import cli_process

    project.write_config(project.config.read_text().replace("landing/pos", "does/not/exist"))
    result = cli_process("--config", project.config, "watch", timeout=60)
    assert result.code == 2 and "Traceback" not in result.stderr, result.stderr
    assert "does/not/exist" in result.stderr and "does not exist" in result.stderr


def test_an_event_for_a_file_that_is_not_there_is_said(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    from salespipe.triggers.kafka import Resolver

    resolver = Resolver(load_config(project.config))
    with caplog.at_level("WARNING", logger="salespipe.kafka"):
        assert resolver.resolve(str(project.landing / "gone.csv")) is None
    assert "gone.csv is not there" in caplog.text


def test_the_kafka_clients_repeated_messages_are_throttled() -> None:
    import logging

    from salespipe.triggers.kafka import _Throttled

    throttle = _Throttled(seconds=60)

    def record(text: str) -> logging.LogRecord:
        return logging.LogRecord("rdkafka", logging.ERROR, __file__, 1, text, None, None)

    refused = "FAIL|rdkafka#consumer-1| 127.0.0.1:1: Connection refused"
    assert throttle.filter(record(refused))
    assert not any(throttle.filter(record(refused)) for _ in range(50))  # 20 a second, once
    assert throttle.filter(record("another message"))
