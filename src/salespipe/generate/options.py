"""Options and report of `salespipe generate`, and the checks on the options.

The CLI builds a GenerateOptions, calls generate_sales and prints the
GenerateReport; a bad option is a ValueError whose message names the option.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from salespipe.generate.writers import FORMATS

SPLITS = ("day", "none")
MAX_STORE_PRODUCT_PAIRS = 20_000_000  # the per-day demand matrix is stores x products
MAX_ROWS_PER_DAY = 1_000_000  # a day is generated in memory at once


@dataclass(frozen=True)
class GenerateOptions:
    out: Path
    days: int = 90
    rows_per_day: int = 2000  # average lines per day (actual varies with seasonality)
    start: date = date(2025, 1, 1)
    stores: int = 8
    products: int = 400
    customers: int = 5000
    seed: int = 42
    dirty_rate: float = 0.0  # fraction of lines made defective
    format: str = "csv"  # csv | tsv | parquet | jsonl | xlsx
    split: str = "day"  # "day": sales_YYYY-MM-DD.<ext> per day; "none": one sales.<ext>
    anomalies: int = 0  # labelled anomalies to inject (see generate/anomalies.py)
    labels: Path | None = None  # where their labels go; default OUT/anomalies.json


@dataclass(frozen=True)
class GenerateReport:
    files: list[Path]
    rows: int  # lines written, defective and duplicate lines included
    defects: dict[str, int]  # reason code -> lines injected with exactly that defect
    seconds: float
    anomalies: list[dict[str, Any]] = field(default_factory=list)  # the labels written
    labels: Path | None = None  # the labels file, when anomalies were injected


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def check_options(options: GenerateOptions) -> None:
    """Raise ValueError naming the first bad option."""
    for name in ("days", "rows_per_day", "stores", "products", "customers"):
        _positive_int(name, getattr(options, name))
    if options.rows_per_day > MAX_ROWS_PER_DAY:
        raise ValueError(
            f"rows_per_day must be at most {MAX_ROWS_PER_DAY:,} (a day is built in memory), "
            f"got {options.rows_per_day:,}; spread the lines over more days"
        )
    if options.stores * options.products > MAX_STORE_PRODUCT_PAIRS:
        raise ValueError(
            f"stores x products must be at most {MAX_STORE_PRODUCT_PAIRS:,}, "
            f"got {options.stores} x {options.products}"
        )
    seed = options.seed
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a whole number of at least 0, got {seed!r}")
    rate = options.dirty_rate
    if not isinstance(rate, int | float) or not math.isfinite(rate) or not 0 <= rate <= 0.5:
        raise ValueError(f"dirty_rate must be between 0 and 0.5, got {rate!r}")
    if not isinstance(options.start, date) or isinstance(options.start, datetime):
        raise ValueError(f"start must be a date (YYYY-MM-DD), got {options.start!r}")
    if options.start.toordinal() + options.days - 1 > date.max.toordinal():
        raise ValueError(f"start + days runs past {date.max}")
    if options.format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {options.format!r}")
    if options.split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {options.split!r}")
    anomalies = options.anomalies
    if not isinstance(anomalies, int) or isinstance(anomalies, bool) or anomalies < 0:
        raise ValueError(f"anomalies must be a whole number of at least 0, got {anomalies!r}")
    if options.out.exists() and not options.out.is_dir():
        raise ValueError(f"out must be a directory, but {options.out} is a file")


def labels_path(options: GenerateOptions) -> Path:
    return options.labels or options.out / "anomalies.json"
