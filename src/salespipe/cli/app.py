"""salespipe's command line. Each command is a small function; its docstring is its help.

Errors a user can fix are printed as one line (exit 2 for usage/config, 1 otherwise);
tracebacks appear only with --debug.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from salespipe.cli.output import console, err_console, file_progress, fmt_money, print_json
from salespipe.config import Config, load_config
from salespipe.errors import SalespipeError, UsageError

if TYPE_CHECKING:
    from salespipe.api.client import ServerClient

app = typer.Typer(
    name="salespipe",
    help="Local-first sales analytics: contracts, quarantine, exactly-once loads, KPIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
quarantine_app = typer.Typer(
    help="Inspect, export and replay quarantined rows.", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")
marts_app = typer.Typer(
    help="List, show, refresh and document the KPI marts.", no_args_is_help=True
)
app.add_typer(marts_app, name="marts")
monitor_app = typer.Typer(
    help="Monitor events: list, acknowledge, snooze; run the checks now; stage timings.",
    invoke_without_command=True,
)
app.add_typer(monitor_app, name="monitor")


class State:
    config_path: str | None = None
    debug: bool = False
    _config: Config | None = None

    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


state = State()


@app.callback()
def main_options(
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            help="Path to salespipe.yaml.",
            envvar="SALESPIPE_CONFIG",
            show_envvar=True,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    state.config_path = config
    state.debug = debug
    state._config = None


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")] = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing salespipe.yaml.")
    ] = False,
) -> None:
    """Create salespipe.yaml and the landing folder."""
    from salespipe.config.starter import write_starter

    created = write_starter(directory, force=force)
    for path in created:
        console.print(f"created {path}")
    console.print(
        f"next: salespipe generate --out {directory / 'landing' / 'pos'} && "
        f"salespipe --config {created[0]} run"
    )


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files to.")],
    days: Annotated[int, typer.Option(help="Number of days.")] = 90,
    rows_per_day: Annotated[
        int, typer.Option("--rows-per-day", help="Average lines per day.")
    ] = 2000,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2025-01-01",
    stores: Annotated[int, typer.Option(help="Number of stores.")] = 8,
    products: Annotated[int, typer.Option(help="Number of products.")] = 400,
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    dirty_rate: Annotated[
        float, typer.Option("--dirty-rate", help="Fraction of defective lines.")
    ] = 0.0,
    format: Annotated[
        str, typer.Option("--format", help="csv, tsv, parquet, jsonl or xlsx.")
    ] = "csv",
    split: Annotated[
        str, typer.Option(help="'day' (a file per day) or 'none' (one file).")
    ] = "day",
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    anomalies: Annotated[
        int,
        typer.Option(
            "--anomalies",
            help="Labelled anomalies to inject (drops, spikes, silent stores, partial days, "
            "price errors), for measuring the monitor.",
        ),
    ] = 0,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels", help="Where the anomalies' labels go; default OUT/anomalies.json."
        ),
    ] = None,
) -> None:
    """Write realistic synthetic sales exports (deterministic by seed)."""
    from salespipe.generate import GenerateOptions, generate_sales

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise UsageError(f"--start {start!r} is not a date", hint="use YYYY-MM-DD") from None
    try:
        options = GenerateOptions(
            out=out,
            days=days,
            rows_per_day=rows_per_day,
            start=first,
            stores=stores,
            products=products,
            customers=customers,
            seed=seed,
            dirty_rate=dirty_rate,
            format=format,
            split=split,
            anomalies=anomalies,
            labels=labels,
        )
        report = generate_sales(options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if json_out:
        print_json(
            {
                "files": [str(f) for f in report.files],
                "rows": report.rows,
                "defects": report.defects,
                "seconds": round(report.seconds, 3),
                **(
                    {"anomalies": len(report.anomalies), "labels": str(report.labels)}
                    if report.labels
                    else {}
                ),
            }
        )
        return
    console.print(
        f"wrote {report.rows:,} lines in {len(report.files)} file(s) to {out} "
        f"in {report.seconds:.2f}s"
    )
    if report.defects:
        console.print(
            "injected defects: " + ", ".join(f"{k}={v}" for k, v in sorted(report.defects.items()))
        )
    if report.labels:
        console.print(f"injected {len(report.anomalies)} anomalies, labels in {report.labels}")


@app.command()
def run(
    source: Annotated[str | None, typer.Option("--source", help="Load only this source.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait while another run holds the warehouse.")
    ] = 0.0,
) -> None:
    """Load every new landed file: validate, quarantine, merge, exactly once."""
    from salespipe.ingest.run import run_pipeline

    config = state.config()
    server = _server(config)
    if server is not None:  # the server owns the warehouse: it runs the load
        data = server.run(source)
    else:
        with file_progress(not json_out) as progress:
            data = run_pipeline(config, source, progress=progress, wait=wait).to_dict()
        data["checks"] = _local_checks(config, data["run_id"])
    if json_out:
        print_json(data)
    else:
        _print_run(data)
        _print_checks(data.get("checks"))
    if data["status"] != "ok" or (data.get("checks") or {}).get("status") == "fail":
        raise typer.Exit(1)


def _server(config: Config) -> ServerClient | None:
    """The running `salespipe serve` that owns this warehouse, if any (docs/api.md).
    Never on PostgreSQL: nothing owns it, and commands open it themselves."""
    from salespipe.api.client import find_server

    return find_server(config)


def _print_run(data: dict[str, Any]) -> None:
    from rich.table import Table

    if not data["files"]:
        console.print("no files to load")
        return
    table = Table(title=f"run {data['run_id']}", show_lines=False)
    for col in ("file", "status", "in", "loaded", "updated", "quarantined", "duplicate", "s"):
        table.add_column(col, justify="right" if col not in ("file", "status") else "left")
    for f in data["files"]:
        status = f["status"]
        style = {"loaded": "green", "skipped": "dim", "rejected": "red", "failed": "red"}[status]
        table.add_row(
            Path(f["uri"]).name,
            f"[{style}]{status}[/]",
            f"{f['rows_in']:,}",
            f"{f['rows_loaded']:,}",
            f"{f['rows_updated']:,}",
            f"{f['rows_quarantined']:,}",
            f"{f['rows_duplicate']:,}",
            f"{f['seconds']:.2f}",
        )
    console.print(table)
    t = data["totals"]
    console.print(
        f"{t['files']} file(s): {t['loaded']} loaded, {t['skipped']} skipped, {t['rejected']} rejected, "
        f"{t['failed']} failed; rows in {t['rows_in']:,} = loaded {t['rows_loaded']:,} + updated "
        f"{t['rows_updated']:,} + quarantined {t['rows_quarantined']:,} + duplicate {t['rows_duplicate']:,}"
    )
    if t["reasons"]:
        console.print(
            "quarantine reasons: "
            + ", ".join(f"{k}={v:,}" for k, v in sorted(t["reasons"].items()))
        )
    for f in data["files"]:
        if f["status"] in ("rejected", "failed"):
            err_console.print(
                f"[red]{f['uri']}: {f['error']}[/]" + (f" ({f['hint']})" if f["hint"] else "")
            )
        elif f["status"] == "skipped" and f["error"]:
            console.print(
                f"[dim]{Path(f['uri']).name}: {f['error']}[/]"
                + (f" ({f['hint']})" if f["hint"] else "")
            )
        elif f["hint"]:
            err_console.print(f"[yellow]{Path(f['uri']).name}: {f['hint']}[/]", highlight=False)
    if t["rows_quarantined"]:
        console.print("see the rows: salespipe quarantine list")


@app.command()
def status(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show the warehouse, recent runs and every file with its reconciliation."""
    from salespipe.query.ledger import warehouse_status
    from salespipe.warehouse import open_warehouse

    config = state.config()
    server = _server(config)
    if server is not None:
        data = server.status()
    else:
        with open_warehouse(config, read_only=True) as wh:
            data = warehouse_status(wh.con, config)
    data["monitor"] = _monitor_health(config)
    if json_out:
        print_json(data)
        return
    from rich.table import Table

    console.print(f"warehouse: {data['warehouse']}")
    console.print(
        f"fact rows: {data['fact_rows']:,}  dates: {data['first_date']} .. {data['last_date']}  "
        f"open quarantine rows: {data['quarantine_open']:,}"
    )
    _print_monitor_health(data["monitor"])
    table = Table(title="files")
    for col in (
        "id",
        "source",
        "file",
        "status",
        "in",
        "loaded",
        "updated",
        "quarantined",
        "duplicate",
        "ok",
    ):
        table.add_column(col)
    for f in data["files"]:
        table.add_row(
            str(f["file_id"]),
            f["source"],
            f["name"],
            f["status"],
            f"{f['rows_in']:,}",
            f"{f['rows_loaded']:,}",
            f"{f['rows_updated']:,}",
            f"{f['rows_quarantined']:,}",
            f"{f['rows_duplicate']:,}",
            "yes" if f["reconciles"] else "[red]NO[/]",
        )
    console.print(table)


def _monitor_health(config: Config) -> dict[str, Any] | None:
    """The monitor's snapshot (open events, last run's stages); readable without the DB."""
    from salespipe.monitor import read_health

    return read_health(config)


def _print_monitor_health(health: dict[str, Any] | None) -> None:
    if not health:
        return
    run = health.get("last_run")
    if run:
        stages = ", ".join(f"{s['stage']} {s['seconds']:.2f}s" for s in run["stages"])
        console.print(
            f"last run {run['run_id']} ({run['command']}): {run['status']}"
            + (f"; {stages}" if stages else ""),
            highlight=False,
        )
    counts = {k: v for k, v in health["open"].items() if v}
    if not counts:
        console.print("monitor: no open events")
        return
    console.print(
        "monitor: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + " open; see `salespipe monitor list`",
        style="red" if health["status"] in ("error", "critical") else "yellow",
    )
    for e in health["events"][:10]:
        console.print(f"  {e['id']:>5} {e['severity']:<8} {e['message']}", highlight=False)


def _parse_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{name} {value!r} is not a date", hint="use YYYY-MM-DD") from None


@app.command()
def kpi(
    date_from: Annotated[
        str | None, typer.Option("--from", help="First business day, YYYY-MM-DD.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last business day, YYYY-MM-DD.")
    ] = None,
    store: Annotated[str | None, typer.Option(help="Only this store_id.")] = None,
    region: Annotated[str | None, typer.Option(help="Only stores of this region.")] = None,
    category: Annotated[str | None, typer.Option(help="Only products of this category.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            "--compare",
            help="Compare with the previous period of equal length (previous), the same days "
            "of the previous month (mtd) or of the previous year (yoy); repeatable, or all.",
        ),
    ] = None,
) -> None:
    """Print the KPIs (net sales, orders, AOV, ...) for a period and filters."""
    from salespipe.query.kpis import KpiFilter, check_members, compute_kpis, to_output
    from salespipe.warehouse import open_warehouse

    flt = KpiFilter(
        _parse_date(date_from, "--from"), _parse_date(date_to, "--to"), store, region, category
    )
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise UsageError("--from is after --to")
    modes = _compare_modes(compare)
    config = state.config()
    server = _server(config)
    if server is not None:  # it holds the warehouse: its API computes the same JSON
        out = server.kpis(
            {
                "from": date_from,
                "to": date_to,
                "store": store,
                "region": region,
                "category": category,
                "compare": ",".join(modes) or "none",
            }
        )
        if not modes:
            out.pop("comparison", None)
    else:
        with open_warehouse(config, read_only=True) as wh:
            check_members(wh.con, flt)
            out = to_output(compute_kpis(wh.con, flt))
            if modes:
                from salespipe.query.compare import compare_periods, comparison_output

                blocks = compare_periods(wh.con, flt, modes)["comparison"]
                out["comparison"] = comparison_output(blocks)
    if json_out:
        print_json(out)
        return
    labels = {
        "net_sales": "net sales",
        "gross_sales": "gross sales",
        "returns_value": "returns",
        "orders": "orders",
        "average_order_value": "average order value",
        "units_sold": "units sold",
        "net_units": "net units",
        "active_stores": "active stores",
        "cost": "cost",
        "profit": "profit",
        "margin_pct": "margin %",
    }
    console.print(f"period {out['from']} .. {out['to']} ({config.currency})")
    for key, label in labels.items():
        shown = _shown(key, out[key])
        console.print(f"  {label:<22}{shown:>20}")
    _print_comparison(out.get("comparison"))


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only rows with this reason code.")] = None,
    file: Annotated[
        str | None, typer.Option(help="Only rows of files whose name contains this.")
    ] = None,
    all_states: Annotated[bool, typer.Option("--all", help="Include replayed rows.")] = False,
    limit: Annotated[int, typer.Option(min=0, help="At most this many rows (0 = all).")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List quarantined rows with their file, line, raw values and reason codes."""
    from salespipe.query.ledger import quarantine_rows
    from salespipe.warehouse import open_warehouse

    config = state.config()
    server = _server(config)
    if server is not None:  # it holds the warehouse: its API lists the same rows
        filters = {"source": source, "reason": reason, "file": file}
        rows = server.quarantine(
            {**filters, "include_replayed": str(all_states).lower()}, limit or None
        )
    else:
        with open_warehouse(config, read_only=True) as wh:
            rows = quarantine_rows(
                wh.con,
                source=source,
                reason=reason,
                file=file,
                include_replayed=all_states,
                limit=limit or None,
            )
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("no quarantined rows")
        return
    for r in rows:
        console.print(
            f"[bold]{r['file']}[/]:{r['line']} [red]{', '.join(r['reasons'])}[/] {r['state']}"
        )
        console.print("   " + ", ".join(f"{k}={v!r}" for k, v in r["raw"].items()), highlight=False)
    if limit and len(rows) == limit:
        console.print(
            f"[dim]the first {limit} rows: --limit 0 lists all, "
            "`salespipe quarantine export --out rows.csv` writes them[/]"
        )


@quarantine_app.command("export")
def quarantine_export(
    out: Annotated[Path, typer.Option("--out", help="File to write: .csv, .jsonl or .parquet.")],
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only rows with this reason code.")] = None,
) -> None:
    """Export quarantined rows (one column per raw field) to fix them by hand."""
    from salespipe.marts.export import cannot_write
    from salespipe.query.ledger import quarantine_rows, write_quarantine
    from salespipe.warehouse import open_warehouse

    config = state.config()
    server = _server(config)
    if server is not None:  # it holds the warehouse: its API pages out the same rows
        rows = server.quarantine({"source": source, "reason": reason}, None)
    else:
        with open_warehouse(config, read_only=True) as wh:
            rows = quarantine_rows(wh.con, source=source, reason=reason, limit=None)
    try:
        n = write_quarantine(rows, out)
    except OSError as exc:
        raise cannot_write(out, exc) from None
    console.print(f"wrote {n:,} rows to {out}")


@quarantine_app.command("replay")
def quarantine_replay(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """After fixing a contract, load the quarantined rows that now pass (exactly once)."""
    from salespipe.ingest.replay import replay_quarantine

    config = state.config()
    server = _server(config)
    if server is not None:  # the server owns the warehouse: it replays
        data = server.run(source, "replay")
    else:
        data = replay_quarantine(config, source).to_dict()
    if json_out:
        print_json(data)
    else:
        _print_run(data)
    if data["status"] != "ok":
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; without api.keys only loopback.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8000,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Also do what `salespipe watch` does (folders, S3, Kafka, schedules), inside "
            "the server.",
        ),
    ] = False,
    settle: Annotated[
        float, typer.Option(help="With --watch: seconds a file must stay unchanged.")
    ] = 2.0,
    poll: Annotated[float, typer.Option(help="With --watch: seconds between S3 polls.")] = 10.0,
) -> None:
    """Serve the REST API; the server owns the warehouse and runs the CLI's loads."""
    from salespipe.api.server import prepare_server
    from salespipe.config.loader import find_config
    from salespipe.triggers.runner import WatchOptions

    server = prepare_server(
        state.config(),
        host=host,
        port=port,
        config_path=find_config(state.config_path),
        watch=WatchOptions(settle_seconds=settle, poll_seconds=poll) if watch else None,
    )
    auth = "API keys required" if server.keys_configured else "no API keys: loopback only"
    err_console.print(
        f"salespipe API on {server.info.url} (docs {server.info.url}/docs; {auth}); "
        f"warehouse {server.warehouse}"
        + (f"; {server.triggers.describe()}" if server.triggers else ""),
        highlight=False,
        soft_wrap=True,
    )
    server.run()


@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless --public).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            help="URL of the API to read; default: the configured warehouse's server, "
            "started for the dashboard when none runs.",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="SALESPIPE_API_KEY", help="Key sent to the API."),
    ] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Allow a non-loopback --host (no login of its own).")
    ] = False,
) -> None:
    """Serve the live dashboard (Streamlit) over the REST API of the configured warehouse."""
    from salespipe.config.loader import find_config
    from salespipe.dashboard.launch import run_dashboard

    config = state.config() if api is None else None
    code = run_dashboard(
        config,
        config_path=find_config(state.config_path) if config is not None else None,
        host=host,
        port=port,
        api=api,
        api_key=api_key,
        public=public,
        announce=lambda line: err_console.print(line, highlight=False, soft_wrap=True),
    )
    if code:
        raise typer.Exit(code)


@app.command()
def watch(
    settle: Annotated[
        float, typer.Option(help="Seconds a file must stay unchanged before loading.")
    ] = 2.0,
    poll: Annotated[float, typer.Option(help="Seconds between polls of S3 prefixes.")] = 10.0,
    kafka: Annotated[
        bool, typer.Option("--kafka/--no-kafka", help="Consume triggers.kafka events.")
    ] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON line per run.")] = False,
) -> None:
    """Load files as they land (folders, S3, Kafka events) and run the schedules, until Ctrl-C."""
    import logging
    import os
    import signal
    import threading

    from salespipe.ingest.results import RunResult
    from salespipe.triggers import run_in_process
    from salespipe.triggers.runner import Triggers, WatchOptions, standalone_jobs

    config = state.config()
    if config.warehouse.startswith("duckdb://") and _server(config) is not None:
        raise UsageError(
            "a running `salespipe serve` owns the warehouse, so this watcher could not load",
            hint="stop the server and start it as `salespipe serve --watch`: it then "
            "watches too, inside the server",
        )

    def report(result: RunResult) -> None:
        data = result.to_dict()
        if json_out:
            print(dumps_line(data), flush=True)
            return
        for f in data["files"]:
            console.print(
                f"{f['status']:<8} {f['uri']}  in={f['rows_in']:,} loaded={f['rows_loaded']:,} "
                f"updated={f['rows_updated']:,} quarantined={f['rows_quarantined']:,} "
                f"duplicate={f['rows_duplicate']:,}" + (f"  {f['error']}" if f["error"] else ""),
                highlight=False,
                soft_wrap=True,  # one line per file, also in a log
            )

    triggers = Triggers(
        config,
        run_files=run_in_process(config),
        jobs=standalone_jobs(config, on_run=report),
        on_run=report,
        options=WatchOptions(settle_seconds=settle, poll_seconds=poll, kafka=kafka),
    )
    triggers.prepare()
    if not json_out:
        console.print(triggers.describe() + "; Ctrl-C to stop")
    # What the trigger threads do besides loads (group joins, failed polls) goes to stderr.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.getLogger("salespipe").addHandler(handler)
    logging.getLogger("salespipe").setLevel(logging.INFO)

    # Ctrl-C and SIGTERM ask for a stop; the load in progress commits first. The signal
    # only sets a flag: an exception raised in the main thread mid-load would also
    # interrupt the loading thread's DuckDB statements. A second Ctrl-C ends the process
    # at once (the open load rolls back, as after kill -9).
    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        if stopping.is_set() and signum == signal.SIGINT:
            os._exit(130)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    triggers.start()
    try:
        while triggers.alive() and not stopping.is_set():
            triggers.wait(0.5)
    finally:
        triggers.stop()  # a load in progress commits first


@app.command()
def migrate(
    to: Annotated[
        str, typer.Option("--to", help="Target warehouse URL, postgresql://user@host:port/db.")
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Copy this DuckDB warehouse into an empty PostgreSQL database, then rebuild the marts there."""
    from salespipe.warehouse import is_postgres, warehouse_path
    from salespipe.warehouse.migrate import migrate_duckdb_to_postgres

    config = state.config()
    if is_postgres(config):
        raise UsageError(
            "the configured warehouse is already PostgreSQL",
            hint="migrate from a duckdb:/// warehouse",
        )
    if not to.startswith(("postgresql://", "postgres://")):
        raise UsageError(
            f"--to {to!r} is not a PostgreSQL URL", hint="use postgresql://user@host:port/db"
        )
    report = migrate_duckdb_to_postgres(warehouse_path(config), to)
    rebuilt = _rebuild_marts_on(config, to)
    data = {
        "to": to,
        "tables": report.tables,
        "marts": rebuilt,
        "seconds": round(report.seconds, 3),
    }
    if json_out:
        print_json(data)
        return
    for table, rows in report.tables.items():
        console.print(f"  {table:<18}{rows:>14,} rows")
    console.print(f"copied in {report.seconds:.1f}s; marts rebuilt: {rebuilt}")
    console.print(f"next: set `warehouse: {to}` in salespipe.yaml")


def _rebuild_marts_on(config: Config, url: str) -> int:
    """Rebuild every mart on the target warehouse from the same definitions."""
    from salespipe.marts.refresh import refresh_marts
    from salespipe.warehouse import open_warehouse

    target = config.model_copy(update={"warehouse": url})
    with open_warehouse(target) as wh:
        result = refresh_marts(wh.con, full=True)
    return len(getattr(result, "marts", []) or [])


def dumps_line(data: Any) -> str:
    import json

    from salespipe.cli.output import dumps

    return json.dumps(json.loads(dumps(data)))


@marts_app.command("list")
def marts_list(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the marts: grain, how they refresh, their state, rows and last refresh."""
    from salespipe.query.marts import mart_catalog
    from salespipe.warehouse import open_warehouse

    config = state.config()
    server = _server(config)
    if server is not None:  # it holds the warehouse: its API has the same catalog
        marts = server.marts()
    else:
        with open_warehouse(config, read_only=True) as wh:
            marts = mart_catalog(wh.con)
    if json_out:
        print_json(marts)
        return
    from rich.table import Table

    table = Table(title="marts")
    for col in ("mart", "grain", "status", "rows", "last refresh", "s"):
        table.add_column(col, justify="right" if col in ("rows", "s") else "left")
    for m in marts:
        status = m["status"] if m["status"] != "skipped" else "[yellow]skipped[/]"
        table.add_row(
            m["name"],
            ", ".join(m["grain"]),
            status,
            f"{m['rows']:,}" if m["rows"] is not None else "—",
            m["last_mode"] or "—",
            f"{m['last_seconds']:.3f}" if m["last_seconds"] is not None else "—",
        )
    console.print(table)
    for m in marts:
        if m["status"] != "built" and m["note"]:
            console.print(f"{m['name']}: {m['note']}", highlight=False)


@marts_app.command("show")
def marts_show(
    name: Annotated[str, typer.Argument(help="Mart name (see `salespipe marts list`).")],
    limit: Annotated[int, typer.Option(min=0, help="At most this many rows (0 = all).")] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a mart's rows in grain order; money rounded to cents."""
    from salespipe.query.marts import mart_rows
    from salespipe.warehouse import open_warehouse

    config = state.config()
    server = _server(config)
    if server is not None:  # it holds the warehouse: its API pages out the same rows
        columns, records, total = server.mart_rows(name, limit or None)
        rows = [tuple(r[c] for c in columns) for r in records]
    else:
        with open_warehouse(config, read_only=True) as wh:
            columns, rows, total = mart_rows(wh.con, name, limit=limit or None)
    if json_out:
        print_json(
            {
                "mart": name,
                "rows": total,
                "columns": columns,
                "data": [dict(zip(columns, r, strict=True)) for r in rows],
            }
        )
        return
    from rich.table import Table

    console.print(f"{name}: {len(rows):,} of {total:,} rows")
    if len(columns) > 8:  # too wide for a table: one block per row
        for r in rows:
            console.print("")
            for col, v in zip(columns, r, strict=True):
                console.print(f"  {col:<26}{'—' if v is None else v}", highlight=False)
        return
    table = Table()
    for col in columns:
        table.add_column(col)
    for r in rows:
        table.add_row(*("—" if v is None else str(v) for v in r))
    console.print(table)


@marts_app.command("refresh")
def marts_refresh(
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild every mart from the fact table.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Refresh the marts (only what loads touched; --full rebuilds all), then run the data tests."""
    from salespipe.quality import refresh_run
    from salespipe.warehouse import open_warehouse

    with open_warehouse(state.config()) as wh:
        refresh, report = refresh_run(wh.con, full=full)
    checks = report.to_dict()
    if json_out:
        print_json({"refresh": refresh.to_dict(), "checks": checks})
    else:
        for m in refresh.marts:
            detail = m.note or (f"{m.rows:,} rows" if m.rows is not None else "")
            console.print(
                f"  {m.name:<27}{m.mode:<12}{m.seconds:>8.3f}s  {detail}", highlight=False
            )
        console.print(f"refreshed in {refresh.seconds:.2f}s")
        _print_checks(checks)
    if checks["status"] != "pass":
        raise typer.Exit(1)


@marts_app.command("docs")
def marts_docs(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: print).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if --out differs instead of writing.")
    ] = False,
) -> None:
    """Generate docs/marts.md from the marts' declarations."""
    from salespipe.marts.docs import render_marts_doc

    text = render_marts_doc()
    if out is None:
        sys.stdout.write(text)
        return
    if check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            err_console.print(f"{out} is out of date: run `salespipe marts docs --out {out}`")
            raise typer.Exit(1)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        from salespipe.marts.export import cannot_write

        raise cannot_write(out, exc) from None
    console.print(f"wrote {out}")


@app.command()
def export(
    mart: Annotated[
        str | None, typer.Argument(help="Mart to export (all marts with --lake).")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="csv, parquet or xlsx.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
    bom: Annotated[
        bool, typer.Option("--bom", help="CSV: start with a UTF-8 BOM (for Excel).")
    ] = False,
    lake: Annotated[
        Path | None,
        typer.Option(
            "--lake", help="Folder: write fact_sales and marts as Hive-partitioned Parquet."
        ),
    ] = None,
) -> None:
    """Export a mart to CSV, Parquet or XLSX, or the fact and marts to a Parquet lake (--lake)."""
    from salespipe.marts.export import BUILT_MARTS, export_lake, export_mart
    from salespipe.query.marts import built_mart
    from salespipe.warehouse import PostgresWarehouse, open_warehouse

    if lake is None and (mart is None or out is None):
        raise UsageError(
            "give a MART and --out PATH, or --lake FOLDER",
            hint="salespipe export sales_daily --format csv --out daily.csv",
        )
    if lake is not None and out is not None:
        raise UsageError("--out and --lake exclude each other")
    with open_warehouse(state.config(), read_only=True) as wh:
        con = wh.con
        if isinstance(wh, PostgresWarehouse):
            # DuckDB writes the files here, on this machine: the tables are copied to it
            from salespipe.marts.registry import MARTS
            from salespipe.warehouse.postgres import pull_table

            needed = ["mart_state"]
            if lake is None or mart is not None:
                needed.append(built_mart(con, mart or "").name)
            else:
                built = {str(r[0]) for r in con.execute(BUILT_MARTS).fetchall()}
                needed += ["fact_sales", *(m.name for m in MARTS if m.name in built)]
            for table in needed:
                pull_table(wh, table)
            con = wh.staging
        if lake is not None:
            tables = export_lake(con, lake, built_mart(con, mart) if mart else None)
            for t in tables:
                console.print(
                    f"{t.name}: {t.rows:,} rows -> {t.path} ({', '.join(t.partitions) or 'one file'})",
                    highlight=False,
                )
            return
        assert mart is not None and out is not None
        rows = export_mart(con, built_mart(con, mart), format, out, bom=bom)
    console.print(f"wrote {rows:,} rows of {mart} to {out}")


@app.command()
def check(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Run every data test on the whole warehouse; exit 1 and show the offending rows on failure."""
    from salespipe.quality import check_run
    from salespipe.warehouse import open_warehouse

    with open_warehouse(state.config()) as wh:
        checks = check_run(wh.con).to_dict()
    if json_out:
        print_json(checks)
    else:
        _print_checks(checks, verbose=True)
    if checks["status"] != "pass":
        raise typer.Exit(1)


def _print_checks(checks: dict[str, Any] | None, verbose: bool = False) -> None:
    if not checks:
        return
    console.print(
        f"checks: {checks['passed']} passed, {checks['failed']} failed, {checks['skipped']} skipped",
        style="green" if checks["status"] == "pass" else "red",
    )
    for r in checks["results"]:
        if verbose and r["status"] == "skipped":
            console.print(f"  [yellow]skipped[/] {r['name']}: {r['message']}", highlight=False)
        if r["status"] not in ("fail", "error"):
            continue
        err_console.print(f"[red]{r['status']}[/] {r['name']}: {r['message']}", highlight=False)
        for row in r["rows"]:
            err_console.print(
                "   " + ", ".join(f"{k}={v}" for k, v in row.items()), highlight=False
            )


def _local_checks(config: Config, run_id: str) -> dict[str, Any] | None:
    """The data test results stored for a run, read after the run released the warehouse."""
    from salespipe.quality import stored_report
    from salespipe.warehouse import open_warehouse

    with open_warehouse(config, read_only=True) as wh:
        report = stored_report(wh.con, run_id)
    return report.to_dict() if report else None


def _compare_modes(compare: list[str] | None) -> tuple[str, ...]:
    from salespipe.query.compare import COMPARISONS

    modes: list[str] = []
    for item in compare or []:
        for mode in COMPARISONS if item == "all" else item.split(","):
            if mode not in COMPARISONS:
                raise UsageError(
                    f"--compare {mode!r} is unknown", hint="use previous, mtd, yoy or all"
                )
            if mode not in modes:
                modes.append(mode)
    return tuple(modes)


def _print_comparison(blocks: dict[str, Any] | None) -> None:
    if not blocks:
        return
    from rich.table import Table

    titles = {"previous": "previous period", "mtd": "month to date", "yoy": "year over year"}
    for mode, block in blocks.items():
        if block is None:
            console.print(f"{titles[mode]}: no sales in the period")
            continue
        cur, prev = block["current"], block["previous"]
        table = Table(
            title=f"{titles[mode]}: {cur['from']}..{cur['to']} vs {prev['from']}..{prev['to']}"
        )
        for col in ("kpi", "current", "previous", "change", "change %"):
            table.add_column(col, justify="left" if col == "kpi" else "right")
        for key, pct in block["change_pct"].items():
            table.add_row(
                key,
                _shown(key, cur[key]),
                _shown(key, prev[key]),
                _shown(key, block["change"][key]),
                "—" if pct is None else f"{pct:+.2f}%",
            )
        console.print(table)


# KPIs shown with two decimals (amounts, and the margin in points); the rest are counts.
TWO_DECIMALS = frozenset(
    {
        "net_sales",
        "gross_sales",
        "returns_value",
        "average_order_value",
        "cost",
        "profit",
        "margin_pct",
    }
)


def _shown(key: str, value: Any) -> str:
    """A KPI value as the CLI prints it (a server's JSON gives floats, the engine Decimals)."""
    if value is None:
        return "—"
    if key in TWO_DECIMALS:
        return fmt_money(str(value))
    return f"{value:,}"


@monitor_app.callback()
def monitor_main(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Anomalies, drift, freshness, runtime, data tests, errors; alone, lists the open events."""
    if ctx.invoked_subcommand is None:
        _list_events(json_out, all_states=False)


@monitor_app.command("list")
def monitor_list(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    all_states: Annotated[bool, typer.Option("--all", help="Include resolved events.")] = False,
    limit: Annotated[int, typer.Option(min=0, help="At most this many events (0 = all).")] = 50,
) -> None:
    """List monitor events, newest first: open and acknowledged ones (--all: resolved too)."""
    _list_events(json_out, all_states=all_states, limit=limit)


def _list_events(json_out: bool, *, all_states: bool, limit: int = 50) -> None:
    from salespipe.monitor import events
    from salespipe.monitor.model import ACTIVE, STATES
    from salespipe.monitor.runner import duckdb_connection
    from salespipe.warehouse import open_warehouse

    config = state.config()
    states = STATES if all_states else ACTIVE
    server = _server(config)
    if server is not None:  # the server holds the warehouse: ask it
        rows = server.request("GET", "/api/v1/alerts", {"limit": limit or 500})["alerts"]
        rows = [r for r in rows if r.get("state") in states]
    else:
        with open_warehouse(config, read_only=True) as wh:
            con = duckdb_connection(wh.con)
            rows = [e.to_dict() for e in events(con, states=states, limit=limit or None)]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("no open monitor events" if not all_states else "no monitor events")
        return
    from rich.table import Table

    table = Table(title="monitor events")
    for col in ("id", "severity", "kind", "subject", "day", "observed", "expected", "state"):
        table.add_column(col, justify="right" if col in ("id", "observed", "expected") else "left")
    for r in rows:
        style = {"critical": "red", "error": "red", "warning": "yellow"}.get(r["severity"], "")
        table.add_row(
            str(r["id"]),
            f"[{style}]{r['severity']}[/]" if style else r["severity"],
            r["kind"],
            r["subject"],
            r["day"] or "—",
            "—" if r["observed"] is None else str(r["observed"]),
            "—" if r["expected"] is None else str(r["expected"]),
            r["state"] + (" (snoozed)" if r.get("snoozed_until") else ""),
        )
    console.print(table)
    for r in rows[:20]:
        console.print(f"  {r['id']:>5} {r['message']}", highlight=False)


@monitor_app.command("ack")
def monitor_ack(
    event_id: Annotated[int, typer.Argument(help="Event id (see `salespipe monitor list`).")],
) -> None:
    """Acknowledge an event: no more reminders; its resolution is still announced."""
    from salespipe.monitor import change_event

    changed = change_event(state.config(), event_id, ack=True)
    console.print(f"event {changed.id} acknowledged: {changed.message}", highlight=False)


@monitor_app.command("snooze")
def monitor_snooze(
    event_id: Annotated[int, typer.Argument(help="Event id (see `salespipe monitor list`).")],
    for_: Annotated[str, typer.Option("--for", help="How long: 30m, 2h, 1d, 1w.")],
) -> None:
    """Snooze an event: no alert about it (reminder, worse, resolved) for a while."""
    from datetime import UTC, datetime

    from salespipe.config.model import parse_duration
    from salespipe.monitor import change_event

    try:
        duration = parse_duration(for_)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None
    changed = change_event(state.config(), event_id, until=datetime.now(UTC) + duration)
    until = changed.snoozed_until.isoformat(timespec="minutes") if changed.snoozed_until else "?"
    console.print(f"event {changed.id} snoozed until {until}", highlight=False)


@monitor_app.command("run")
def monitor_run(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    alerts: Annotated[
        bool, typer.Option("--alerts/--no-alerts", help="Send the alerts of this pass.")
    ] = True,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait while another run holds the warehouse.")
    ] = 0.0,
) -> None:
    """Run every check now (freshness included) and send the alerts; the `monitor` schedule."""
    from salespipe.monitor import monitor_now

    report = monitor_now(state.config(), send=alerts, wait=wait)
    data = report.to_dict()
    if json_out:
        print_json(data)
        return
    for title, key in (("new", "opened"), ("worse", "escalated"), ("resolved", "resolved")):
        for e in data[key]:
            console.print(
                f"{title:<9}{e['id']:>5} {e['severity']:<8} {e['message']}", highlight=False
            )
    cleared = len(data["opened_and_cleared"])
    if cleared:
        console.print(f"{cleared} finding(s) in re-judged days already cleared")
    for a in data["alerts"]:
        console.print(
            f"alert to {a['channel']}: {a['status']} ({a['events']} event(s), "
            f"{a['attempts']} attempt(s))" + (f": {a['error']}" if a["error"] else ""),
            highlight=False,
        )
    console.print(f"{data['open_events']} open event(s); monitor took {data['seconds']:.2f}s")


@monitor_app.command("runs")
def monitor_runs(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many runs.")] = 10,
) -> None:
    """Recent runs with each stage's timing: load, marts, checks, monitor, alerts."""
    from salespipe.monitor import recent_runs
    from salespipe.monitor.runner import duckdb_connection
    from salespipe.warehouse import open_warehouse

    with open_warehouse(state.config(), read_only=True) as wh:
        runs = recent_runs(duckdb_connection(wh.con), limit)
    if json_out:
        print_json(runs)
        return
    for r in runs:
        seconds = f"{r['seconds']:.2f}s" if r["seconds"] is not None else "—"
        stages = ", ".join(
            f"{s['stage']} {s['seconds']:.2f}s" + (f" ({s['rows']:,})" if s["rows"] else "")
            for s in r["stages"]
        )
        console.print(
            f"{r['run_id']} {r['command']:<8} {r['status']:<7} {seconds:>9}  {stages}",
            highlight=False,
        )


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Argument(help="Project folder; created with sample data when missing.")
    ] = Path("demo"),
    api_port: Annotated[int, typer.Option("--api-port", help="Port of the REST API.")] = 8000,
    dashboard_port: Annotated[
        int, typer.Option("--dashboard-port", help="Port of the dashboard.")
    ] = 8501,
    days: Annotated[int, typer.Option(min=1, help="Days of sample data to generate.")] = 120,
    rows_per_day: Annotated[
        int, typer.Option("--rows-per-day", min=1, help="Average sample lines per day.")
    ] = 2500,
    serve_too: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Serve the API and dashboard after loading."),
    ] = True,
) -> None:
    """Try salespipe: sample data, a run, the KPIs, then the API and dashboard until Ctrl-C."""
    from salespipe.cli.demo import DemoOptions, generate_sample, prepare_project, start_api
    from salespipe.dashboard.launch import stop_process
    from salespipe.ingest.run import run_pipeline

    def say(text: str) -> None:
        console.print(text, highlight=False, soft_wrap=True)

    options = DemoOptions(directory, days=days, rows_per_day=rows_per_day)
    config_path = prepare_project(options, say)
    state.config_path, state._config = str(config_path), None
    config = state.config()
    generate_sample(config, options, say)
    server = _server(config)
    if server is not None:
        data = server.run(None)
    else:
        with file_progress(True) as progress:
            data = run_pipeline(config, progress=progress).to_dict()
    _print_run(data)
    kpi()
    from salespipe.warehouse import is_postgres, warehouse_path

    say(f"warehouse: {config.warehouse if is_postgres(config) else warehouse_path(config)}")
    if not serve_too:
        return
    from salespipe.dashboard.launch import run_dashboard

    process = None
    key: str | None
    if server is not None:
        api_url, key = server.info.url, server.info.token
        say(f"API:       {api_url} (already running, PID {server.info.pid})")
    else:
        process, api_url = start_api(config_path, api_port)
        key = None if is_postgres(config) else _local_token(config)
        say(f"API:       {api_url}   (OpenAPI docs: {api_url}/docs)")
    try:
        say("dashboard: starting; Ctrl-C stops the dashboard and the API")
        code = run_dashboard(
            config,
            config_path=config_path,
            port=dashboard_port,
            api=api_url,
            api_key=key,
            announce=say,
        )
    finally:
        if process is not None:
            stop_process(process)
    if code:
        raise typer.Exit(code)


def _local_token(config: Config) -> str | None:
    """The token of the server owning this DuckDB warehouse (it works with api.keys set)."""
    from salespipe.api.discovery import discovery_path, read_discovery
    from salespipe.warehouse import warehouse_path

    info = read_discovery(discovery_path(warehouse_path(config)))
    return info.token if info is not None else None


def main() -> None:
    try:
        app()
    except SalespipeError as exc:
        if state.debug:
            raise
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        # A server refusing a privilege is the setup's mistake, not a bug: say what to grant.
        if state.debug or getattr(exc, "sqlstate", None) != "42501":
            raise
        first = str(exc).strip().splitlines()[0]
        err_console.print(
            f"[red]error:[/] the database refused: {first} (the warehouse role lacks a "
            "privilege: grant what docs/postgresql.md lists under 'Privileges'; a read-only "
            "role can read once the schema exists)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
