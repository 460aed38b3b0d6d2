"""`salespipe demo`: the whole product in one command, in the foreground.

A project folder (created when missing), sample data (generated when the landing folder
is empty), a pipeline run, the KPIs, then the REST API and the live dashboard until
Ctrl-C. Re-running it is safe: files already loaded are skipped by content hash.
`make demo` does the same with the servers in the background.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from salespipe.config.model import Config
from salespipe.dashboard.launch import stop_process
from salespipe.errors import UsageError, WarehouseError

START_TIMEOUT = 120.0
SAMPLE_START = date(2025, 1, 1)


@dataclass(frozen=True)
class DemoOptions:
    directory: Path
    days: int = 120
    rows_per_day: int = 2500
    seed: int = 7
    dirty_rate: float = 0.01


def prepare_project(options: DemoOptions, say: Callable[[str], None]) -> Path:
    """The project's salespipe.yaml: the existing one, or a new starter project."""
    from salespipe.config.starter import write_starter

    config_path = options.directory / "salespipe.yaml"
    if config_path.exists():
        say(f"using {config_path}")
        return config_path
    for path in write_starter(options.directory):
        say(f"created {path}")
    return config_path


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def generate_sample(config: Config, options: DemoOptions, say: Callable[[str], None]) -> None:
    """Sample exports for the first local source, unless it already has files."""
    from salespipe.generate import GenerateOptions, generate_sales

    if not config.sources:
        raise UsageError("the config has no sources to load", key="sources")
    source = config.sources[0]
    if source.landing.startswith("s3://"):
        say(f"source {source.name} lands on S3: no sample data generated")
        return
    landing = Path(source.landing)
    if not landing.is_absolute():
        landing = options.directory / landing
    if _has_files(landing):
        say(f"{landing} already has files: no sample data generated")
        return
    report = generate_sales(
        GenerateOptions(
            out=landing,
            days=options.days,
            rows_per_day=options.rows_per_day,
            start=SAMPLE_START,
            seed=options.seed,
            dirty_rate=options.dirty_rate,
        )
    )
    say(
        f"generated {report.rows:,} sample lines in {len(report.files)} files in {landing} "
        f"({report.seconds:.1f} s)"
    )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_api(config_path: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """`salespipe serve` as a child process, once it answers /health."""
    command = [sys.executable, "-m", "salespipe.cli.app", "--config", str(config_path)]
    process = subprocess.Popen([*command, "serve", "--host", "127.0.0.1", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while not _healthy(url + "/health"):
        if process.poll() is not None:
            raise WarehouseError(
                f"the API exited with code {process.returncode} before answering",
                hint="its message is above; --api-port picks another port",
            )
        if time.monotonic() > deadline:
            stop_process(process)
            raise WarehouseError(f"the API did not answer within {START_TIMEOUT:.0f} s")
        time.sleep(0.2)
    return process, url
