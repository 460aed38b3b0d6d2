"""salespipe's command line. Each command is a small function; its docstring is its help.

Errors a user can fix are printed as one line (exit 2 for usage/config, 1 otherwise);
tracebacks appear only with --debug.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from salespipe.cli.output import console, err_console, file_progress, fmt_money, print_json
from salespipe.config import Config, load_config
from salespipe.errors import SalespipeError, UsageError

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


@app.command()
def run(
    source: Annotated[str | None, typer.Option("--source", help="Load only this source.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Load every new landed file: validate, quarantine, merge, exactly once."""
    from salespipe.ingest.run import run_pipeline

    config = state.config()
    with file_progress(not json_out) as progress:
        result = run_pipeline(config, source, progress=progress)
    data = result.to_dict()
    if json_out:
        print_json(data)
    else:
        _print_run(data)
    if not result.ok:
        raise typer.Exit(1)


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
    if t["rows_quarantined"]:
        console.print("see the rows: salespipe quarantine list")


@app.command()
def status(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show the warehouse, recent runs and every file with its reconciliation."""
    from salespipe.query.ledger import warehouse_status
    from salespipe.warehouse import open_warehouse

    config = state.config()
    with open_warehouse(config, read_only=True) as wh:
        data = warehouse_status(wh.con, config)
    if json_out:
        print_json(data)
        return
    from rich.table import Table

    console.print(f"warehouse: {data['warehouse']}")
    console.print(
        f"fact rows: {data['fact_rows']:,}  dates: {data['first_date']} .. {data['last_date']}  "
        f"open quarantine rows: {data['quarantine_open']:,}"
    )
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
) -> None:
    """Print the KPIs (net sales, orders, AOV, ...) for a period and filters."""
    from salespipe.query.kpis import KpiFilter, compute_kpis, to_output
    from salespipe.warehouse import open_warehouse

    flt = KpiFilter(
        _parse_date(date_from, "--from"), _parse_date(date_to, "--to"), store, region, category
    )
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise UsageError("--from is after --to")
    config = state.config()
    with open_warehouse(config, read_only=True) as wh:
        out = to_output(compute_kpis(wh.con, flt))
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
        value = out[key]
        shown = (
            fmt_money(value)
            if key
            in (
                "net_sales",
                "gross_sales",
                "returns_value",
                "average_order_value",
                "cost",
                "profit",
                "margin_pct",
            )
            else (f"{value:,}" if value is not None else "—")
        )
        console.print(f"  {label:<22}{shown:>20}")


@quarantine_app.command("list")
def quarantine_list(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only rows with this reason code.")] = None,
    file: Annotated[
        str | None, typer.Option(help="Only rows of files whose name contains this.")
    ] = None,
    all_states: Annotated[bool, typer.Option("--all", help="Include replayed rows.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows (0 = all).")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List quarantined rows with their file, line, raw values and reason codes."""
    from salespipe.query.ledger import quarantine_rows
    from salespipe.warehouse import open_warehouse

    with open_warehouse(state.config(), read_only=True) as wh:
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


@quarantine_app.command("export")
def quarantine_export(
    out: Annotated[Path, typer.Option("--out", help="File to write: .csv, .jsonl or .parquet.")],
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only rows with this reason code.")] = None,
) -> None:
    """Export quarantined rows (one column per raw field) to fix them by hand."""
    from salespipe.query.ledger import export_quarantine
    from salespipe.warehouse import open_warehouse

    with open_warehouse(state.config(), read_only=True) as wh:
        n = export_quarantine(wh.con, out, source=source, reason=reason)
    console.print(f"wrote {n:,} rows to {out}")


@quarantine_app.command("replay")
def quarantine_replay(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """After fixing a contract, load the quarantined rows that now pass (exactly once)."""
    from salespipe.ingest.replay import replay_quarantine

    result = replay_quarantine(state.config(), source)
    data = result.to_dict()
    if json_out:
        print_json(data)
    else:
        _print_run(data)
    if not result.ok:
        raise typer.Exit(1)


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


if __name__ == "__main__":
    main()
