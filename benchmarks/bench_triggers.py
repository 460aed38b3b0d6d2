"""Latency from a file landing to its numbers being committed, for each trigger.

Measures a 100K-line file through `salespipe watch` (a real process): a watched
folder, an S3 prefix polled on moto's S3 server, and a Kafka event on a tansu
broker; then through `salespipe serve --watch`, from the Kafka event to the new numbers
in `GET /api/v1/kpis`. Prints one JSON object and rewrites the triggers section of
docs/benchmarks.md (`--quick`: a smoke test that writes nothing).

    python benchmarks/bench_triggers.py [--lines 100000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "benchmarks.md"
START_MARK = "<!-- bench:triggers:start -->"
END_MARK = "<!-- bench:triggers:end -->"

from tests.servers import (  # noqa: E402
    create_topic,
    moto_client,
    moto_s3,
    s3_event,
    stop_process,
    tansu_kafka,
)


def make_file(folder: Path, lines: int, seed: int) -> Path:
    from datetime import date

    from salespipe.generate import GenerateOptions, generate_sales

    days = max(1, lines // 100_000)
    report = generate_sales(
        GenerateOptions(
            out=folder,
            days=days,
            rows_per_day=lines // days,
            split="none",
            seed=seed,
            start=date(2025, 1, 1 + seed % 28),
        )
    )
    return report.files[0]


class WatchProcess:
    """`salespipe watch --json` in its own process; yields the moments files commit."""

    def __init__(self, config: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "salespipe.cli.app",
                "--config",
                str(config),
                "watch",
                "--json",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.log: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for text in self.proc.stderr:
            self.log.append(text)

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        wait_until(lambda: any(text in line for line in self.log), timeout, text)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for text in self.proc.stdout:
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                continue
            for f in data.get("files", []):
                self.events.append((time.perf_counter(), f))

    def wait_for(self, name: str, timeout: float = 120) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for moment, f in self.events:
                if f["uri"].endswith(name) and f["status"] == "loaded":
                    return moment
            time.sleep(0.01)
        raise TimeoutError(f"{name} was not loaded within {timeout}s")

    def stop(self) -> None:
        stop_process(self.proc, timeout=20)


BASE = """\
warehouse: duckdb:///warehouse.duckdb
sources:
  - name: pos
    landing: {landing}
    pattern: "*.csv"
    formats: {{sold_at: "%Y-%m-%d %H:%M:%S"}}
"""


def bench_folder(work: Path, files: list[Path]) -> list[float]:
    landing = work / "folder" / "landing"
    landing.mkdir(parents=True)
    config = work / "folder" / "salespipe.yaml"
    config.write_text(BASE.format(landing="landing"))
    watch = WatchProcess(config, "--settle", "0.5")
    time.sleep(3)
    out = []
    try:
        for i, f in enumerate(files):
            name = f"day{i}.csv"
            shutil.copy(f, landing / (name + ".part"))
            landed = time.perf_counter()
            os.rename(landing / (name + ".part"), landing / name)
            out.append(watch.wait_for(name) - landed)
    finally:
        watch.stop()
    return out


def s3_landing(folder: Path, endpoint: str, bootstrap: str | None = None) -> tuple[Any, Path]:
    """The bucket `bench` on moto and a config in `folder` landing s3://bench/in (with a
    Kafka trigger on topic `files` when a broker is given); returns an S3 client and it."""
    s3 = moto_client(endpoint)
    s3.create_bucket(Bucket="bench")
    config = folder / "salespipe.yaml"
    config.parent.mkdir(parents=True)
    text = BASE.format(landing="s3://bench/in")
    text += f"s3: {{endpoint_url: '{endpoint}', access_key_id: k, secret_access_key: s}}\n"
    if bootstrap is not None:
        text += f"triggers:\n  kafka: {{bootstrap_servers: '{bootstrap}', topic: files, group_id: bench}}\n"
    config.write_text(text)
    return s3, config


def files_producer(bootstrap: str) -> Any:
    """A Kafka producer for the topic `files`, created first."""
    from confluent_kafka import Producer

    create_topic(bootstrap, "files")
    return Producer({"bootstrap.servers": bootstrap})


def bench_s3(work: Path, files: list[Path]) -> list[float]:
    with moto_s3() as endpoint:
        s3, config = s3_landing(work / "s3", endpoint)
        watch = WatchProcess(config, "--poll", "1", "--settle", "0")
        time.sleep(3)
        out = []
        try:
            for i, f in enumerate(files):
                name = f"day{i}.csv"
                s3.upload_file(str(f), "bench", f"in/{name}")
                landed = time.perf_counter()
                out.append(watch.wait_for(name) - landed)
        finally:
            watch.stop()
    return out


def bench_kafka(work: Path, files: list[Path]) -> list[float]:
    with moto_s3() as endpoint, tansu_kafka() as bootstrap:
        s3, config = s3_landing(work / "kafka", endpoint, bootstrap)
        producer = files_producer(bootstrap)
        watch = WatchProcess(config, "--poll", "3600", "--settle", "0")
        out = []
        try:
            watch.wait_for_log("kafka: consuming files")  # the group is joined: events flow
            for i, f in enumerate(files):
                name = f"day{i}.csv"
                s3.upload_file(str(f), "bench", f"in/{name}")
                landed = time.perf_counter()
                producer.produce("files", s3_event("bench", f"in/{name}"))
                producer.flush(10)
                out.append(watch.wait_for(name) - landed)
        finally:
            watch.stop()
    return out


def bench_serve_kafka(work: Path, files: list[Path]) -> list[float]:
    """`salespipe serve --watch`: event produced -> the file's lines in GET /api/v1/kpis."""
    with moto_s3() as endpoint, tansu_kafka() as bootstrap:
        s3, config = s3_landing(work / "serve", endpoint, bootstrap)
        producer = files_producer(bootstrap)
        log_path = config.parent / "serve.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "salespipe.cli.app",
                    "--config",
                    str(config),
                    "serve",
                    "--port",
                    "0",
                    "--watch",
                    "--poll",
                    "3600",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        out = []
        try:
            discovery = config.parent / "warehouse.duckdb.server.json"
            wait_until(lambda: "kafka: consuming files" in log_path.read_text(), 60, "group join")
            port = json.loads(discovery.read_text())["port"]
            url = f"http://127.0.0.1:{port}/api/v1/kpis"
            for i, f in enumerate(files):
                name = f"day{i}.csv"
                before = kpi_lines(url)
                s3.upload_file(str(f), "bench", f"in/{name}")
                published = time.perf_counter()
                producer.produce("files", s3_event("bench", f"in/{name}"))
                producer.flush(10)
                wait_until(lambda before=before: kpi_lines(url) > before, 120, name, pause=0.02)
                out.append(time.perf_counter() - published)
        finally:
            stop_process(proc, timeout=60)
    return out


def kpi_lines(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return int(json.loads(resp.read())["lines"] or 0)


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, pause: float = 0.05
) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return
        time.sleep(pause)
    raise TimeoutError(f"{what}: not within {timeout}s")


BENCHES: tuple[tuple[str, str, Callable[[Path, list[Path]], list[float]]], ...] = (
    ("folder", "watched folder (`--settle 0.5`)", bench_folder),
    ("s3", "S3 polling (`--poll 1`, moto server)", bench_s3),
    ("kafka", "Kafka event (tansu broker, S3 object)", bench_kafka),
    (
        "serve_kafka",
        "`serve --watch`: Kafka event → new numbers in `GET /api/v1/kpis`",
        bench_serve_kafka,
    ),
)


def render(result: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {label} | {result['latency'][key]['median_s']:.2f} | "
        + ", ".join(f"{s:.2f}" for s in result["latency"][key]["runs_s"])
        + " |"
        for key, label, _ in BENCHES
    )
    machine = result["machine"]
    return f"""{START_MARK}
## Triggers: file landed → numbers committed

`python benchmarks/bench_triggers.py --repeat {result["repeat"]}` (run by `make bench`):
a {result["lines"] // 1000}K-line generated CSV (~20 MB) per repetition.
`salespipe watch --json` runs as its own process; the time is from the file appearing
(rename into the folder, S3 upload done, or event produced) to the watcher's line saying
the file's load committed. `salespipe serve --watch`: from the event produced to the
file's lines in `GET /api/v1/kpis` (the server moves its snapshot as soon as the load
commits, before the marts refresh). Kafka consumers have joined their group before the
first event. {machine["cpus"]} cores, measured {result["measured_at"]}, load average
{machine["load_average"][0]:.1f} at the end (the machine ran other work too).

| trigger | median s | runs s |
|---|---:|---|
{rows}
{END_MARK}"""


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    head, found, rest = text.partition(START_MARK)
    _, found_end, tail = rest.partition(END_MARK)
    if not (found and found_end):
        sys.exit(f"{DOC} has no {START_MARK} ... {END_MARK} section")
    DOC.write_text(head + section + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="20K lines once, print only (a smoke test)"
    )
    parser.add_argument("--only", choices=[key for key, _, _ in BENCHES], action="append")
    args = parser.parse_args()
    lines, repeat = (20_000, 1) if args.quick else (args.lines, args.repeat)
    work = Path(tempfile.mkdtemp(prefix="sp-bench-triggers-"))
    try:
        files = [make_file(work / "data" / str(i), lines, seed=i + 1) for i in range(repeat)]
        latency = {}
        for key, _, bench in BENCHES:
            if args.only and key not in args.only:
                continue
            seconds = bench(work, files)
            latency[key] = {
                "median_s": round(statistics.median(seconds), 3),
                "runs_s": [round(s, 3) for s in seconds],
            }
        result = {
            "benchmark": "triggers",
            "lines": lines,
            "repeat": repeat,
            "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "load_average": list(os.getloadavg()),
            },
            "latency": latency,
        }
        print(json.dumps(result, indent=2))
        if not args.quick and not args.only:
            write_doc(render(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
