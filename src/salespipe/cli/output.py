"""Output helpers for the CLI: JSON with exact decimals, tables, progress bars."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# Piped into a file or a log (journald), lines are not cut to the 80 columns Rich assumes
# without a terminal: tables get room for file names, a loaded file stays one line.
_PIPED_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
console = Console(width=_PIPED_WIDTH)
err_console = Console(stderr=True, width=_PIPED_WIDTH)


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            # Amounts are quantized to cents before output; a float prints them exactly.
            exponent = o.as_tuple().exponent
            if isinstance(exponent, int) and exponent >= 0:
                return int(o)
            return float(o)
        if isinstance(o, datetime | date):
            return o.isoformat()
        return super().default(o)


def dumps(value: Any) -> str:
    text = json.dumps(value, cls=_Encoder, indent=2, ensure_ascii=False)
    return text


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")


def fmt_money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


@contextmanager
def file_progress(enabled: bool) -> Iterator[Any]:
    """A progress bar on a terminal; nothing in --json mode or when piped."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("loading", total=None)

        def update(source: str, done: int, total: int, landed: Any) -> None:
            name = f"{source}: {landed.name}" if landed is not None else "done"
            progress.update(task, completed=done, total=total, description=name)

        yield update
