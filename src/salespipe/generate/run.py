"""`generate_sales`: writes a realistic synthetic sales dataset to files.

Stage order: calendar and master data, promotions, a volume plan with exact
line counts per day and store (labelled anomalies, when asked for, are factors
in it), defect counts per day; then day by day: simulate, apply the day's
partial-day cut and price errors, inject defects, render, write. Each day draws from its own seeded
random stream, so equal options give byte-identical files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from salespipe.generate.anomalies import (
    adjust_volume,
    by_day,
    distort_day,
    labels,
    plan_anomalies,
    write_labels,
)
from salespipe.generate.catalog import build_catalog
from salespipe.generate.defects import (
    DEFECT_CODES,
    DUPLICATE_KEY,
    inject_defects,
    plan_defect_counts,
)
from salespipe.generate.lines import LineBatch
from salespipe.generate.options import (
    GenerateOptions,
    GenerateReport,
    check_options,
    labels_path,
)
from salespipe.generate.promotions import plan_promotions
from salespipe.generate.retail_calendar import build_calendar
from salespipe.generate.simulate import DaySimulator
from salespipe.generate.volume import draw_line_counts, plan_volume
from salespipe.generate.writers import FORMATS, BackgroundFiles

Progress = Callable[[int, int], None]
IntArray = npt.NDArray[np.int64]

# Independent random streams, so that e.g. changing the defect rate leaves the
# clean lines unchanged.
_CATALOG, _PROMOTIONS, _VOLUME, _DAY, _DEFECTS, _ANOMALIES = range(6)


def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def generate_sales(options: GenerateOptions, progress: Progress | None = None) -> GenerateReport:
    """Write the dataset described by `options`; `progress(lines_written, lines_total)`
    is called after each day. Raises ValueError for bad options."""
    check_options(options)
    started = time.perf_counter()
    days = options.days
    calendar = build_calendar(options.start, days)
    catalog = build_catalog(
        _stream(options.seed, _CATALOG),
        stores=options.stores,
        products=options.products,
        customers=options.customers,
        days=days,
    )
    promotions = plan_promotions(_stream(options.seed, _PROMOTIONS), calendar, catalog.products)
    plan = plan_volume(calendar.seasonal, catalog.stores.share, options.rows_per_day)
    anomalies = plan_anomalies(
        _stream(options.seed, _ANOMALIES), calendar, len(catalog.stores), options.anomalies
    )
    plan = adjust_volume(plan, anomalies)
    distortions = by_day(anomalies)
    counts = draw_line_counts(plan, calendar.return_rate, _stream(options.seed, _VOLUME))
    base_lines = counts.lines.sum(axis=1)
    defects = plan_defect_counts(base_lines, options.dirty_rate)
    lines_out = base_lines + defects[:, DEFECT_CODES.index(DUPLICATE_KEY)]
    total = int(lines_out.sum())

    output = FORMATS[options.format]
    if options.split == "day":
        paths = [options.out / f"sales_{d.isoformat()}.{output.extension}" for d in calendar.dates]
        per_file = lines_out
    else:
        paths = [options.out / f"sales.{output.extension}"]
        per_file = np.array([total])
    limit = output.max_rows_per_file
    if limit is not None and int(per_file.max()) > limit:
        raise ValueError(
            f"{options.format} holds at most {limit:,} lines per file, but a file would get "
            f"{int(per_file.max()):,}; use split 'day' or fewer rows"
        )

    options.out.mkdir(parents=True, exist_ok=True)
    simulator = DaySimulator(catalog, calendar, promotions)
    written = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="salespipe-generate") as worker:
        files = BackgroundFiles(output.prepare(catalog), worker)
        try:
            for day in range(days):
                if day == 0 or options.split == "day":
                    files.start(paths[min(day, len(paths) - 1)])
                # One expression, so no day outlives its writing in a local variable.
                written += files.write(
                    inject_defects(
                        _stream(options.seed, _DEFECTS, day),
                        *_fit_defects(
                            distort_day(
                                simulator.simulate(
                                    _stream(options.seed, _DAY, day),
                                    day,
                                    counts.lines[day],
                                    counts.returns[day],
                                ),
                                distortions.get(day, ()),
                            ),
                            defects,
                            day,
                        ),
                    )
                )
                if progress is not None:
                    progress(written, total)
        finally:
            files.finish()

    anomaly_labels = labels(anomalies, calendar, catalog.stores.ids)
    labels_file = labels_path(options) if anomalies else None
    if labels_file is not None:
        write_labels(labels_file, options.seed, anomaly_labels)
    return GenerateReport(
        files=paths,
        rows=written,
        # Every code (zeros included) when defects were asked for, none otherwise.
        defects={
            code: int(n)
            for code, n in zip(DEFECT_CODES, defects.sum(axis=0), strict=True)
            if options.dirty_rate > 0
        },
        seconds=time.perf_counter() - started,
        anomalies=anomaly_labels,
        labels=labels_file,
    )


def _fit_defects(batch: LineBatch, defects: IntArray, day: int) -> tuple[LineBatch, IntArray]:
    """The day's lines and defect counts; a partial day that lost lines gets fewer defects
    (each defect needs a line of its own), and the plan is corrected so the report holds."""
    wanted = defects[day]
    if int(wanted.sum()) > len(batch):
        defects[day] = wanted * len(batch) // max(int(wanted.sum()), 1)
    return batch, defects[day]
