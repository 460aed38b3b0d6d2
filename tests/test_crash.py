"""Crash safety: SIGKILL a real `salespipe run` at many moments; the next run completes the work.

Each file loads in one transaction, so after any kill the warehouse holds none or all of
each file, and a re-run ends with exactly the totals of an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .conftest import cli_process

FILES = 10
ROWS = 6000
OBSERVED: list[int] = []  # files loaded when a kill struck, across the parametrised runs


def make_landing(folder: Path) -> None:
    folder.mkdir(parents=True)
    con = duckdb.connect()
    for f in range(FILES):
        # Files overlap by a few keys with changed prices (late corrections) and carry bad rows.
        con.execute(f"""
            COPY (
              SELECT 'T' || (({f} * {ROWS} - CASE WHEN {f} > 0 THEN 50 ELSE 0 END + i) // 3) AS transaction_id,
                     CAST(i % 3 + 1 AS VARCHAR) AS line_no,
                     strftime(TIMESTAMP '2025-01-01' + to_minutes({f} * 1440 + i % 1440), '%Y-%m-%d %H:%M:%S') AS sold_at,
                     'S' || (i % 5) AS store_id, 'P' || (i * 7 % 300) AS product_id,
                     CASE WHEN i % 97 = 0 THEN 'zz' WHEN i % 41 = 0 THEN '-1' ELSE CAST(1 + i % 3 AS VARCHAR) END
                       AS quantity,
                     printf('%.2f', 1 + (i * 13 % 5000) / 100.0 + {f} / 100.0) AS unit_price,
                     CASE WHEN i % 4 = 0 THEN NULL ELSE 'C' || (i % 700) END AS customer_id
              FROM range({ROWS}) t(i)
            ) TO '{folder / f"sales_{f:02d}.csv"}' (HEADER)
        """)
    con.close()


CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
sources:
  - name: pos
    landing: landing
    pattern: "*.csv"
    formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
    archive: processed/
"""


def totals(root: Path) -> dict[str, Any]:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        fact = con.execute(
            "SELECT count(*), count(DISTINCT row_key), sum(line_revenue), sum(quantity) FROM fact_sales"
        ).fetchall()[0]
        files = con.execute(
            "SELECT count(*), count(DISTINCT content_hash) FROM files WHERE status = 'loaded'"
        ).fetchall()[0]
        quarantine = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        dims = con.execute(
            "SELECT (SELECT count(*) FROM dim_product), (SELECT count(*) FROM dim_store)"
        ).fetchall()[0]
    finally:
        con.close()
    return {"fact": fact, "files": files, "quarantine": quarantine, "dims": dims}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-template")
    make_landing(root / "landing")
    (root / "salespipe.yaml").write_text(CONFIG)
    return root


@pytest.fixture(scope="module")
def reference(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], float]:
    root = tmp_path_factory.mktemp("crash-reference")
    shutil.copytree(template, root, dirs_exist_ok=True)
    started = time.perf_counter()
    result = cli_process("--config", root / "salespipe.yaml", "run", "--json")
    elapsed = time.perf_counter() - started
    assert result.code == 0, result.stderr
    return totals(root), elapsed


def test_reference_run_loaded_everything(reference: tuple[dict[str, Any], float]) -> None:
    ref, _ = reference
    assert ref["files"] == (FILES, FILES)
    assert ref["fact"][0] == ref["fact"][1]  # one row per key


@pytest.mark.parametrize("point", range(12))
def test_sigkill_at_any_moment_then_rerun(
    point: int, template: Path, reference: tuple[dict[str, Any], float], tmp_path: Path
) -> None:
    ref, elapsed = reference
    shutil.copytree(template, tmp_path, dirs_exist_ok=True)
    config = tmp_path / "salespipe.yaml"
    # Spread the kill points over the whole run, from interpreter start-up to the last file.
    delays = [elapsed * (point + 0.5) / 12]
    if point % 3 == 0:
        delays.append(elapsed * ((point * 7) % 12 + 0.25) / 12)  # and kill the recovery run too
    for delay in delays:
        proc = subprocess.Popen(
            [sys.executable, "-m", "salespipe.cli.app", "--config", str(config), "run", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if (tmp_path / "warehouse.duckdb").exists():
            try:
                loaded = totals(tmp_path)["files"][0]
            except duckdb.Error:
                loaded = -1  # killed before the schema existed
            OBSERVED.append(loaded)
    final = cli_process("--config", config, "run", "--json")
    assert final.code == 0, final.stderr
    assert totals(tmp_path) == ref
    assert not list((tmp_path / "landing").glob("*.csv")), "every file ends in processed/"
    again = cli_process("--config", config, "run", "--json").json()
    assert again["files"] == []
    assert totals(tmp_path) == ref
    # a run cut short is not left `running`: the next writer says what became of it
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        states = con.execute("SELECT status, error FROM runs").fetchall()
    assert all(status != "running" for status, _ in states), states
    assert all("killed" in str(error) for status, error in states if status == "error")


def test_kills_struck_in_the_middle_of_runs() -> None:
    """The kill points really interrupted loads part-way, not only before or after."""
    middle = {n for n in OBSERVED if 0 < n < FILES}
    assert len(middle) >= 1, OBSERVED
