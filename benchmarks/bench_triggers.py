"""Latency from a file landing to its numbers being committed, for each trigger.

Measures a 100K-line file through `salespipe watch` (a real process): a watched
folder, an S3 prefix polled on moto's S3 server, and a Kafka event on a tansu
broker. Prints one JSON object; `benchmarks/run.py` puts it into docs/benchmarks.md.

    python benchmarks/bench_triggers.py [--lines 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import moto_s3, tansu_kafka  # noqa: E402


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
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

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
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


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


def bench_s3(work: Path, files: list[Path]) -> list[float]:
    import boto3

    with moto_s3() as endpoint:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="k",
            aws_secret_access_key="s",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket="bench")
        config = work / "s3" / "salespipe.yaml"
        config.parent.mkdir(parents=True)
        config.write_text(
            BASE.format(landing="s3://bench/in")
            + f"s3: {{endpoint_url: '{endpoint}', access_key_id: k, secret_access_key: s}}\n"
        )
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
    import boto3
    from confluent_kafka import Producer

    with moto_s3() as endpoint, tansu_kafka() as bootstrap:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="k",
            aws_secret_access_key="s",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket="bench")
        config = work / "kafka" / "salespipe.yaml"
        config.parent.mkdir(parents=True)
        config.write_text(
            BASE.format(landing="s3://bench/in")
            + f"s3: {{endpoint_url: '{endpoint}', access_key_id: k, secret_access_key: s}}\n"
            + f"triggers:\n  kafka: {{bootstrap_servers: '{bootstrap}', topic: files, group_id: bench}}\n"
        )
        producer = Producer({"bootstrap.servers": bootstrap})
        producer.produce("files", b'{"uri": "s3://bench/in/none.csv"}')  # creates the topic
        producer.flush(10)
        watch = WatchProcess(config, "--poll", "3600", "--settle", "0")
        time.sleep(8)  # consumer group join
        out = []
        try:
            for i, f in enumerate(files):
                name = f"day{i}.csv"
                s3.upload_file(str(f), "bench", f"in/{name}")
                landed = time.perf_counter()
                producer.produce(
                    "files",
                    json.dumps(
                        {
                            "Records": [
                                {
                                    "eventName": "ObjectCreated:Put",
                                    "s3": {
                                        "bucket": {"name": "bench"},
                                        "object": {"key": f"in/{name}"},
                                    },
                                }
                            ]
                        }
                    ).encode(),
                )
                producer.flush(10)
                out.append(watch.wait_for(name) - landed)
        finally:
            watch.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sp-bench-triggers-"))
    try:
        files = [
            make_file(work / "data" / str(i), args.lines, seed=i + 1) for i in range(args.repeat)
        ]
        results = {}
        for name, bench in (
            ("watched folder", bench_folder),
            ("S3 polling (1 s)", bench_s3),
            ("Kafka event", bench_kafka),
        ):
            seconds = bench(work, files)
            results[name] = {
                "median_s": round(statistics.median(seconds), 3),
                "runs_s": [round(s, 3) for s in seconds],
            }
        print(json.dumps({"lines": args.lines, "latency": results}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
