"""Shared fixtures: a project folder in tmp_path and the CLI run in-process or as a real process."""

from __future__ import annotations

import csv
import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings
from typer.testing import CliRunner

from salespipe.cli.app import app
from salespipe.errors import SalespipeError

# Property tests draw the same examples on every run, so CI is reproducible; explore
# new examples locally with HYPOTHESIS_PROFILE=explore. CI reports a failing example
# as found: shrinking each one through real CLI runs can take longer than the suite.
settings.register_profile(
    "ci", derandomize=True, phases=[Phase.explicit, Phase.reuse, Phase.generate]
)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

HEADER = [
    "transaction_id",
    "line_no",
    "sold_at",
    "store_id",
    "store_name",
    "city",
    "region",
    "country",
    "product_id",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "unit_cost",
    "customer_id",
]


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def cli(*args: str | Path) -> CliResult:
    """Run the CLI in-process, translating errors as `main()` does."""
    runner = CliRunner()
    result = runner.invoke(app, [str(a) for a in args])
    if isinstance(result.exception, SalespipeError):
        return CliResult(result.exception.exit_code, result.stdout, str(result.exception))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr if result.stderr_bytes else "")


def cli_process(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> CliResult:
    """Run the CLI as a real process, exactly as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "salespipe.cli.app", *[str(a) for a in args]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Project:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "salespipe.yaml"

    @property
    def landing(self) -> Path:
        return self.root / "landing" / "pos"

    def write_config(self, text: str) -> None:
        self.config.write_text(textwrap.dedent(text), encoding="utf-8")

    def write_csv(
        self,
        name: str,
        rows: list[dict[str, Any]],
        header: list[str] | None = None,
        folder: Path | None = None,
        **fmt: Any,
    ) -> Path:
        folder = folder or self.landing
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        cols = header or HEADER
        with path.open("w", newline="", encoding=fmt.pop("encoding", "utf-8")) as fh:
            writer = csv.writer(fh, **fmt)
            writer.writerow(cols)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else row.get(c) for c in cols])
        return path

    def cli(self, *args: str | Path) -> CliResult:
        return cli("--config", self.config, *args)

    def run(self) -> dict[str, Any]:
        result = self.cli("run", "--json")
        assert result.code in (0, 1), result.stderr
        data: dict[str, Any] = result.json()
        return data

    def kpis(self, *args: str) -> dict[str, Any]:
        result = self.cli("kpi", "--json", *args)
        assert result.code == 0, result.stderr
        data: dict[str, Any] = result.json()
        return data


BASIC_CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
timezone: UTC
currency: USD
sources:
  - name: pos
    landing: landing/pos
    pattern: "*.csv"
    formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.landing.mkdir(parents=True)
    p.write_config(BASIC_CONFIG)
    return p


def line(
    tid: str,
    no: int,
    *,
    sold_at: str = "2025-01-01 10:00:00",
    store: str = "S1",
    product: str = "P1",
    quantity: str = "1",
    price: str = "10.00",
    discount: str = "0.00",
    cost: str = "4.00",
    customer: str | None = "C1",
    **extra: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "transaction_id": tid,
        "line_no": str(no),
        "sold_at": sold_at,
        "store_id": store,
        "store_name": f"Store {store}",
        "city": "Paris",
        "region": "West",
        "country": "FR",
        "product_id": product,
        "product_name": f"Product {product}",
        "category": "Cat",
        "quantity": quantity,
        "unit_price": price,
        "discount": discount,
        "unit_cost": cost,
        "customer_id": customer,
    }
    row.update(extra)
    return row


# --- both engines ----------------------------------------------------------------------
# One PostgreSQL server for the whole session; each test (or module) gets a fresh database.

ENGINES = ("duckdb", "postgres")
_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1, shared by every test of the session."""
    from .servers import postgres_server

    with postgres_server() as url:
        yield url


def warehouse_for(engine: str, request: pytest.FixtureRequest) -> str:
    """The `warehouse:` URL of a new warehouse on `engine` (DuckDB: beside the config)."""
    if engine == "duckdb":
        return "duckdb:///warehouse.duckdb"
    from .servers import create_database

    server: str = request.getfixturevalue("pg_server")
    return create_database(server, f"spe_{os.getpid()}_{next(_databases)}")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once per engine."""
    name: str = request.param
    return name


@pytest.fixture
def engine_project(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Project:
    """`project` on each engine: the same folder and config, the warehouse on `engine`."""
    p = Project(tmp_path)
    p.landing.mkdir(parents=True)
    p.write_config(
        BASIC_CONFIG.replace("duckdb:///warehouse.duckdb", warehouse_for(engine, request))
    )
    return p
