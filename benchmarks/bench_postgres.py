"""Benchmark `salespipe run` into PostgreSQL against a bare COPY and a conventional pipeline.

Called by `make bench`. Starts its own PostgreSQL server on 127.0.0.1 (free port,
temporary data directory, durable settings recorded in the report, stopped at the
end), generates the files with `salespipe generate` as `benchmarks/run.py` does (and
shares them with it), then runs every contender as its own process several times,
interleaved, on the same file into the same server:

- ours: `salespipe run --json` with `warehouse: postgresql://...`, a fresh database per run;
- bare COPY: `benchmarks/bare_postgres.py`, the server's own `COPY t FROM 'file'` into one
  typed table (no validation, no indexes): PostgreSQL's limit;
- conventional: `benchmarks/conventional.py --url postgresql+psycopg://...`.

Wall time and peak RSS are measured from outside; the section between
`<!-- bench:postgres:start -->` and `<!-- bench:postgres:end -->` of docs/benchmarks.md
is rewritten. `--quick` is a smoke test that prints and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from tests.servers import PG_BIN, free_port  # noqa: E402

import run as core  # noqa: E402
from doc_section import write_section  # noqa: E402
from run import Result, Sample, Size, SizeResult, human_lines, log, mib  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
WORK = core.DATA / "postgres"
LAST_RUN = core.DATA / "postgres-last-run.json"
START_MARK = "<!-- bench:postgres:start -->"
END_MARK = "<!-- bench:postgres:end -->"
TARGET_LINES_PER_S = 300_000
TARGET_VS_CONVENTIONAL = 10.0
# A conventional run longer than this (extrapolated from the smaller size) is not attempted.
CONVENTIONAL_LIMIT_MIN = 60.0
LOAD_SAMPLE_S = 10.0

# Durable settings (fsync, synchronous_commit and full_page_writes stay on) sized for a
# machine that shares 2 cores and ~24 GB with other work. The report lists what the
# server actually ran with.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "40",
    "shared_buffers": "1GB",
    "effective_cache_size": "8GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
}
REPORTED_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
    "checkpoint_timeout",
    "wal_level",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "jit",
    "max_parallel_workers_per_gather",
    "max_parallel_maintenance_workers",
    "lc_collate",
)


# ---------------------------------------------------------------- the server


@dataclass
class PgServer:
    """A PostgreSQL server this benchmark started: admin URL and what it runs with."""

    url: str
    port: int
    version: str = ""
    settings: dict[str, str] = field(default_factory=dict)

    def database_url(self, name: str, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{name}"

    def admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def fresh_database(self, name: str) -> None:
        # A checkpoint before every run, so that no run pays for the previous one's writes.
        self.admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"', "CHECKPOINT")

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}"')


@contextmanager
def postgres_server(work: Path) -> Iterator[PgServer]:
    """initdb + start on a free port of 127.0.0.1 (as `postgres` when we are root); stop at exit."""
    import psycopg

    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    work.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="pgdata-", dir=work))
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    initdb = [str(PG_BIN / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres"]
    subprocess.run(
        [*as_postgres, *initdb, "-E", "UTF8", "--locale", "C.UTF-8"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {data} " + " ".join(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())
    pg_ctl = [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data / "db")]
    log(f"starting PostgreSQL on 127.0.0.1:{port} (data in {data})")
    subprocess.run(
        [*pg_ctl, "-o", opts, "-w", "-l", str(data / "log"), "start"],
        check=True,
        capture_output=True,
    )
    try:
        server = PgServer(url=f"postgresql://postgres@127.0.0.1:{port}/postgres", port=port)
        with psycopg.connect(server.url) as conn:
            server.version = str(conn.execute("SHOW server_version").fetchall()[0][0])
            rows = conn.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
                [list(REPORTED_SETTINGS)],
            ).fetchall()
        server.settings = {str(n): _with_unit(str(s), u) for n, s, u in rows}
        yield server
    finally:
        log("stopping PostgreSQL")
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def _with_unit(setting: str, unit: str | None) -> str:
    """pg_settings gives 131072 with unit 8kB: show 1 GB."""
    if not unit or not setting.isdigit():
        return setting + (unit or "")
    factor = {"8kB": 8192, "kB": 1024, "MB": 1024**2, "B": 1}.get(unit)
    if factor is None:
        return f"{setting} {unit}"
    size = int(setting) * factor
    for name, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {name}"
    return f"{size} B"


class LoadSampler:
    """The 1-minute load average, sampled every few seconds while the benchmark runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(LOAD_SAMPLE_S)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        s = self.samples or [os.getloadavg()[0]]
        return {"first": s[0], "median": statistics.median(s), "max": max(s), "samples": len(s)}


# ---------------------------------------------------------------- contenders


Runner = Callable[[Path, int], Sample]


def ours_runner(server: PgServer, work: Path) -> Runner:
    def run_ours(file: Path, lines: int) -> Sample:
        """`salespipe run --json` end to end into a fresh PostgreSQL database."""
        folder = _fresh_dir(work / "ours")
        (folder / "landing").mkdir()
        core.link_or_copy(file, folder / "landing" / file.name)
        server.fresh_database("bench_ours")
        config = folder / "salespipe.yaml"
        config.write_text(
            f"warehouse: {server.database_url('bench_ours')}\n"
            "sources:\n"
            "  - name: bench\n"
            "    landing: landing\n"
            '    pattern: "*.csv"\n'
            f'    formats: {{sold_at: "{core.SOLD_AT_FORMAT}"}}\n'
        )
        sample = core.measure(
            [core.salespipe_bin(), "--config", str(config), "run", "--json"], folder
        )
        totals = sample.report["totals"]
        if sample.report["status"] != "ok" or totals["rows_loaded"] != lines:
            raise SystemExit(f"salespipe run did not load every line: {totals}")
        server.drop_database("bench_ours")
        shutil.rmtree(folder)
        return sample

    return run_ours


def bare_runner(server: PgServer, work: Path) -> Runner:
    def run_bare(file: Path, lines: int) -> Sample:
        folder = _fresh_dir(work / "bare")
        server.fresh_database("bench_bare")
        url = server.database_url("bench_bare")
        cmd = [sys.executable, str(HERE / "bare_postgres.py"), str(file), "--url", url, "--json"]
        sample = core.measure(cmd, folder)
        if sample.report["rows_loaded"] != lines:
            raise SystemExit(
                f"the bare COPY read {sample.report['rows_loaded']} lines, not {lines}"
            )
        server.drop_database("bench_bare")
        shutil.rmtree(folder)
        return sample

    return run_bare


def conventional_runner(server: PgServer, work: Path) -> Runner:
    def run_conventional(file: Path, lines: int) -> Sample:
        folder = _fresh_dir(work / "conventional")
        server.fresh_database("bench_conventional")
        url = server.database_url("bench_conventional", driver="postgresql+psycopg")
        cmd = [sys.executable, str(HERE / "conventional.py"), str(file), "--url", url, "--json"]
        sample = core.measure(cmd, folder)
        if sample.report["rows_loaded"] != lines:
            raise SystemExit(f"conventional loaded {sample.report['rows_loaded']}, not {lines}")
        server.drop_database("bench_conventional")
        shutil.rmtree(folder)
        return sample

    return run_conventional


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


OURS, BARE, CONVENTIONAL = "ours → postgresql", "bare COPY", "conventional → postgresql"


def bench_size(
    size: Size,
    server: PgServer,
    work: Path,
    conventional_s_per_line: float | None,
    conventional_limit_s: float,
    with_conventional: bool,
) -> SizeResult:
    file, lines = core.generate(size)
    result = SizeResult(size=size, file=file, lines=lines)
    plan: list[tuple[Result, Path, int, Runner]] = [
        (Result(OURS, lines), file, size.reps, ours_runner(server, work)),
        (Result(BARE, lines), file, size.reps, bare_runner(server, work)),
    ]
    conv_lines = min(size.conventional_lines or lines, lines)
    expected = (conventional_s_per_line or 0.0) * conv_lines
    if not with_conventional:
        result.notes.append("The conventional pipeline was not run (`--no-conventional`).")
    elif expected > conventional_limit_s:
        result.notes.append(
            f"`{CONVENTIONAL}` was not run on this size: at the speed measured on the smaller "
            f"file it would take about {expected / 60:.0f} min per run (limit "
            f"{conventional_limit_s / 60:.0f} min); its ratio uses the smaller file."
        )
    else:
        conv_file = file if conv_lines == lines else core.head_file(file, conv_lines)
        if conv_lines < lines:
            result.notes.append(f"The conventional pipeline ran on the first {conv_lines:,} lines.")
        reps = size.conventional_reps
        if reps == 1 and size.reps > 1:
            result.notes.append(
                f"`{CONVENTIONAL}` ran once on this size (a run takes tens of minutes): its "
                "figure is that one run, not a median."
            )
        plan.append(
            (Result(CONVENTIONAL, conv_lines), conv_file, reps, conventional_runner(server, work))
        )
    for res, _, _, _ in plan:
        result.results[res.contender] = res
    core.warm_cache(file)
    for rep in range(max(reps for _, _, reps, _ in plan)):
        for res, path, reps, runner in plan:
            if rep < reps:
                log(f"{size.name} run {rep + 1}/{reps}: {res.contender} ...")
                res.samples.append(runner(path, res.lines))
                log(
                    f"{size.name} run {rep + 1}/{reps}: {res.contender} {res.samples[-1].wall:.2f} s "
                    f"(own timer {res.samples[-1].own_seconds:.2f} s, load step "
                    f"{res.samples[-1].load_seconds:.2f} s, load average {os.getloadavg()[0]:.2f})"
                )
    return result


# ---------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def ours_breakdown(sr: SizeResult) -> str:
    ours = sr.results[OURS]
    own = statistics.median(s.own_seconds for s in ours.samples)
    load = statistics.median(s.load_seconds for s in ours.samples)
    checks = statistics.median(
        float((s.report.get("checks") or {}).get("seconds", 0.0)) for s in ours.samples
    )
    refresh = max(own - load - checks, 0.0)
    return (
        f"Where ours spends its wall time (medians of the runs): {load:.2f} s loading the file "
        "(`files[].seconds`: hash, read and validate in DuckDB, COPY into PostgreSQL, merge, "
        f"commit); {refresh:.2f} s refreshing the marts and {checks:.2f} s in the data checks "
        f"(inside `run`'s own timer); {ours.wall - own:.2f} s outside it (interpreter start-up "
        "and imports, connecting, post-run monitoring)."
    )


def target_rows(sizes: list[SizeResult]) -> tuple[list[str], list[str]]:
    rows: list[str] = []
    notes: list[str] = []
    fallback: tuple[str, Result] | None = None
    for sr in sizes:
        name = sr.size.name
        ours, bare = sr.results[OURS], sr.results[BARE]
        rows.append(
            f"| {name} | ours, lines/s end to end | ≥ {TARGET_LINES_PER_S:,} | "
            f"{ours.lines_per_s:,.0f} | {verdict(ours.lines_per_s >= TARGET_LINES_PER_S)} |"
        )
        conv = sr.results.get(CONVENTIONAL)
        if conv is not None and conv.samples:
            fallback = (name, conv)
        if fallback is not None:
            where, conv = fallback
            speedup = ours.lines_per_s / conv.lines_per_s
            basis = (
                "same file, same run"
                if where == name and conv.lines == sr.lines
                else f"its lines/s on {conv.lines:,} lines"
            )
            rows.append(
                f"| {name} | ours vs conventional → postgresql ({basis}) | "
                f"≥ {TARGET_VS_CONVENTIONAL:.0f}x | {speedup:,.1f}x | "
                f"{verdict(speedup >= TARGET_VS_CONVENTIONAL)} |"
            )
        if fallback is not None:
            conv = fallback[1]
            load = statistics.median(s.load_seconds for s in ours.samples)
            rows.append(
                f"| {name} | ours' load step alone (`files[].seconds`, no marts) vs conventional "
                f"→ postgresql (which builds no marts) | (reference) | "
                f"{(sr.lines / load) / conv.lines_per_s:,.1f}x | |"
            )
        rows.append(
            f"| {name} | bare COPY wall ÷ ours wall | (reference) | {bare.wall / ours.wall:.0%} | |"
        )
        if ours.lines_per_s < TARGET_LINES_PER_S:
            notes.append(
                f"{name}: {TARGET_LINES_PER_S:,} lines/s is missed ({ours.lines_per_s:,.0f}). "
                f"The target is {TARGET_LINES_PER_S / bare.lines_per_s:.0%} of the server's own "
                f"bare COPY rate on this machine ({bare.lines_per_s:,.0f} lines/s into one typed "
                "table, no indexes, no validation); ours does that COPY and also the "
                "validation, quarantine, ledger, five fact indexes, dimensions, every mart, "
                "data checks and monitoring (where its time goes is above)."
            )
    return rows, notes


def render(sizes: list[SizeResult], info: dict[str, Any], command: str) -> str:
    load = info["load_during"]
    settings = info["server_settings"]
    out = [
        START_MARK,
        "## PostgreSQL: `salespipe run` into PostgreSQL vs a bare COPY vs a conventional pipeline",
        "",
        "Written by `benchmarks/bench_postgres.py`; edit the script, not this section.",
        "",
        f"Command: `{command}`, {info['date']}, commit {info['commit']}.",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['ram']} RAM, {info['os']}; "
        f"Python {info['python']}, DuckDB {info['duckdb']}, psycopg {info['psycopg']}, "
        f"pandas {info['pandas']}, pydantic {info['pydantic']}, SQLAlchemy {info['sqlalchemy']}. "
        f"The machine is shared: the 1-minute load average during the run was "
        f"{load['first']:.2f} at the start, {load['median']:.2f} median and {load['max']:.2f} at "
        f"most ({load['samples']} samples, every {LOAD_SAMPLE_S:.0f} s). On 2 CPUs a load above 2 "
        "means the contenders shared the cores with other work: trust the ratios, measured "
        "in the same run, more than the absolute numbers.",
        "",
        f"Server: PostgreSQL {info['server_version']}, started by the benchmark on 127.0.0.1 "
        "(free port, temporary data directory on the same disk, stopped at the end) with "
        + ", ".join(f"`{k}={v}`" for k, v in settings.items())
        + ". Durability is not traded for speed: `fsync`, `synchronous_commit` and "
        "`full_page_writes` stay on. Every run gets a fresh database, after a `CHECKPOINT`. "
        "What the runs taught about tuning a server for salespipe is in "
        "[postgresql.md](postgresql.md#tuning-from-the-benchmark).",
        "",
        "How: each contender is its own process, run several times, interleaved with the "
        "others, on the same file (already in the page cache), into the same server. Wall "
        "time is measured from outside and includes interpreter start-up and imports "
        '("own timer" is what the process measured itself); the table shows the median. Peak '
        "RSS is the client process's own maximum resident set (`wait4`), the largest over the "
        "runs; the server's memory is not in it.",
        "",
        "- **ours → postgresql**: `salespipe --config salespipe.yaml run --json` with "
        "`warehouse: postgresql://postgres@127.0.0.1:PORT/bench_ours` (one source, "
        f'`pattern: "*.csv"`, `formats: {{sold_at: "{core.SOLD_AT_FORMAT}"}}`): ledger hash, '
        "read, contract and validation in DuckDB, COPY into PostgreSQL, upsert check, fact "
        "(monthly partitions, five indexes) and dimension upserts, quarantine, ledger, in one "
        "transaction; then the mart refresh (a first load builds every mart), the data "
        "checks and monitoring.",
        "- **bare COPY**: `benchmarks/bare_postgres.py`: `COPY t FROM 'file' (FORMAT csv, "
        "HEADER true)` run by the server into one new table typed like the contract "
        "(timestamp, numeric(18,4), text), no indexes, no validation: the server's limit.",
        "- **conventional → postgresql**: `benchmarks/conventional.py --url "
        "postgresql+psycopg://…`: pandas `read_csv` in 10K-row chunks as text, a pydantic v2 "
        "model per row with the contract's rules and reason codes, `drop_duplicates` on the "
        "key, derived `line_revenue` and `sale_date`, SQLAlchemy 2.0 inserts in 1K-row "
        "batches in one transaction.",
        "",
    ]
    for sr in sizes:
        out += [
            f"### {human_lines(sr.lines)} lines ({sr.lines:,} lines, "
            f"{sr.file.stat().st_size / 1e6:,.0f} MB: `salespipe generate --days {sr.size.days} "
            f"--rows-per-day {sr.size.rows_per_day} --split none --seed 1`)",
            "",
            "| contender | runs | median wall | min – max | own timer | lines/s | peak RSS |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for res in sr.results.values():
            if not res.samples:
                continue
            walls = [s.wall for s in res.samples]
            own = statistics.median(s.own_seconds for s in res.samples)
            out.append(
                f"| {res.contender} | {len(walls)} | {res.wall:.2f} s | "
                f"{min(walls):.2f} – {max(walls):.2f} s | {own:.2f} s | "
                f"{res.lines_per_s:,.0f} | {mib(res.peak_rss)} |"
            )
        out += ["", ours_breakdown(sr), ""]
        out.extend(f"{note}\n" for note in sr.notes)
    rows, notes = target_rows(sizes)
    out += [
        "### Targets (issue 8)",
        "",
        "| size | measure | target | measured | |",
        "|---|---|---|---:|---|",
        *rows,
        "",
    ]
    out.extend(f"{note}\n" for note in [*notes, *conventional_breakdown(sizes)])
    out.append(END_MARK)
    return "\n".join(out)


def conventional_breakdown(sizes: list[SizeResult]) -> list[str]:
    out: list[str] = []
    for sr in sizes:
        conv = sr.results.get(CONVENTIONAL)
        if conv is None or not conv.samples:
            continue
        phases = {
            name: statistics.median(s.report["phases"][name] for s in conv.samples)
            for name in conv.samples[0].report.get("phases", {})
        }
        total = sum(phases.values()) or 1.0
        parts = ", ".join(f"{k} {v:.1f} s ({v / total:.0%})" for k, v in phases.items())
        out.append(f"`{CONVENTIONAL}` on {conv.lines:,} lines, median seconds per phase: {parts}.")
    return out


def write_doc(section: str) -> None:
    """Rewrite only the PostgreSQL section; the other sections of the page are kept."""
    write_section(section, START_MARK, END_MARK)


def save_run(sizes: list[SizeResult], info: dict[str, Any], command: str) -> None:
    record = {
        "command": command,
        "machine": info,
        "sizes": [
            {
                "size": sr.size.name,
                "file": str(sr.file),
                "lines": sr.lines,
                "notes": sr.notes,
                "results": {
                    name: {
                        "lines": r.lines,
                        "samples": [
                            {"wall": x.wall, "peak_rss": x.peak_rss, "report": x.report}
                            for x in r.samples
                        ],
                    }
                    for name, r in sr.results.items()
                },
            }
            for sr in sizes
        ],
    }
    LAST_RUN.write_text(json.dumps(record, indent=1))


def load_run() -> tuple[list[SizeResult], dict[str, Any], str]:
    record = json.loads(LAST_RUN.read_text())
    known = {s.name: s for s in (*core.FULL_SIZES, *core.QUICK_SIZES)}
    sizes = []
    for entry in record["sizes"]:
        sr = SizeResult(
            size=known[entry["size"]],
            file=Path(entry["file"]),
            lines=int(entry["lines"]),
            notes=list(entry["notes"]),
        )
        for name, res in entry["results"].items():
            sr.results[name] = Result(
                name,
                int(res["lines"]),
                [Sample(x["wall"], int(x["peak_rss"]), x["report"]) for x in res["samples"]],
            )
        sizes.append(sr)
    return sizes, record["machine"], record["command"]


# ---------------------------------------------------------------- main


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the server's `finally`: it is stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="200K lines, one run each; prints, writes no docs"
    )
    parser.add_argument(
        "--sizes", default="1m,10m", help="comma-separated sizes of a full run (default: 1m,10m)"
    )
    parser.add_argument("--reps", type=int, help="runs of ours and bare COPY per size")
    parser.add_argument(
        "--no-conventional", action="store_true", help="skip the conventional pipeline"
    )
    parser.add_argument(
        "--conventional-limit",
        type=float,
        default=CONVENTIONAL_LIMIT_MIN,
        metavar="MIN",
        help="skip a conventional run expected to take longer than this many minutes "
        f"(default {CONVENTIONAL_LIMIT_MIN:.0f})",
    )
    parser.add_argument(
        "--work", type=Path, default=WORK, help=f"server data and run folders (default {WORK})"
    )
    parser.add_argument("--no-doc", action="store_true", help="print the section only")
    parser.add_argument(
        "--render-last",
        action="store_true",
        help="measure nothing: rewrite the docs section from the samples of the last full run",
    )
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = (
        shlex.join(["python", "benchmarks/bench_postgres.py", *given]) if given else "make bench"
    )
    core.DATA.mkdir(parents=True, exist_ok=True)
    if args.render_last:
        saved, saved_info, saved_command = load_run()
        write_doc(render(saved, saved_info, saved_command))
        log(f"rewrote {DOC.relative_to(ROOT)} from {LAST_RUN.relative_to(ROOT)}")
        return 0
    if args.quick:
        plan = core.QUICK_SIZES
    else:
        wanted = [s.strip() for s in args.sizes.split(",") if s.strip()]
        plan = tuple(s for s in core.FULL_SIZES if s.name in wanted)
    if args.reps:
        plan = tuple(
            Size(
                s.name,
                s.days,
                s.rows_per_day,
                args.reps,
                min(s.conventional_reps, args.reps),
                s.conventional_lines,
            )
            for s in plan
        )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    info: dict[str, Any] = dict(core.machine())
    sizes: list[SizeResult] = []
    with LoadSampler() as sampler, postgres_server(args.work) as server:
        info["server_version"] = server.version
        info["server_settings"] = server.settings
        per_line: float | None = None
        for size in plan:
            sr = bench_size(
                size,
                server,
                args.work,
                per_line,
                args.conventional_limit * 60,
                not args.no_conventional,
            )
            sizes.append(sr)
            conv = sr.results.get(CONVENTIONAL)
            if conv is not None and conv.samples:
                per_line = conv.wall / conv.lines
    info["load_during"] = sampler.summary()
    if not args.quick:
        save_run(sizes, info, command)
    section = render(sizes, info, command)
    print(section)
    if not (args.quick or args.no_doc):
        write_doc(section)
        log(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
