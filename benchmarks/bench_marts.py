"""Benchmark the marts: incremental refresh after a big day lands vs a full rebuild.

A warehouse of `--lines` lines (default 10M, one year ending mid-month) is written
straight into fact_sales and the dimensions with DuckDB SQL, and every mart is built.
Then a `--day-lines` day (default 100K, the next business day, so mid-month) lands
through the real loader, and the marts are refreshed incrementally (target: at most
3 s). A full rebuild on the same warehouse follows, in the same run, and both must
give the same rows (checksums). Prints one JSON object; `--out FILE` also writes it.

    python benchmarks/bench_marts.py              # 10M lines, cached in benchmarks/.data/marts
    python benchmarks/bench_marts.py --quick      # 1M lines, a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from salespipe.config import load_config  # noqa: E402
from salespipe.ingest.load import LoadContext, load_file  # noqa: E402
from salespipe.landing import discover_files  # noqa: E402
from salespipe.marts import BUILD_ORDER, refresh_marts  # noqa: E402
from salespipe.marts.model import FLOAT  # noqa: E402
from salespipe.quality import run_checks  # noqa: E402
from salespipe.warehouse.duckdb import open_duckdb  # noqa: E402

DATA = ROOT / "benchmarks" / ".data" / "marts"
TARGET_INCREMENTAL_S = 3.0
START = date(2024, 1, 16)  # 365 days end on 14 January: the new day lands mid-month
DAYS = 365
STORES, PRODUCTS, CUSTOMERS, PER_STORE_STAFF = 50, 5_000, 200_000, 6

# One line per row number i; a transaction is 3 lines; ~3% of lines are returns,
# ~20% anonymous (no customer). Deterministic: the same lines on every run.
# h(x): a non-negative BIGINT hash (DuckDB's hash is UBIGINT, which mixes badly with literals).
HASH_MACRO = "CREATE OR REPLACE TEMP MACRO h(x) AS CAST(hash(x) >> 1 AS BIGINT)"
LINE_SQL = """
SELECT {source} AS source, {file_id} AS file_id, '{prefix}' || i AS row_key, h(i) AS row_hash,
  '{prefix}T' || (i // 3) AS transaction_id, CAST(i % 3 + 1 AS VARCHAR) AS line_no,
  CAST(day + INTERVAL (8 * 3600 + h(i // 3) % 43200) SECOND AS TIMESTAMPTZ) AS sold_at,
  day AS sale_date,
  'S' || lpad(CAST(store AS VARCHAR), 3, '0') AS store_id,
  'P' || lpad(CAST(product AS VARCHAR), 5, '0') AS product_id,
  CASE WHEN h(i // 3 + 11) % 5 = 0 THEN NULL
       ELSE 'C' || lpad(CAST(h(i // 3 + 7) % {customers} AS VARCHAR), 6, '0') END AS customer_id,
  'E' || lpad(CAST(store AS VARCHAR), 3, '0') || '-' || CAST(h(i // 3 + 3) % {staff} AS VARCHAR)
    AS salesperson_id,
  CAST(qty AS DECIMAL(18,4)) AS quantity, price AS unit_price,
  CAST(CASE WHEN h(i + 5) % 10 = 0 THEN 0.50 ELSE 0 END AS DECIMAL(18,4)) AS discount,
  CAST(price * 0.6 AS DECIMAL(18,4)) AS unit_cost, 'USD' AS currency,
  CAST(1 AS DECIMAL(18,8)) AS fx_rate,
  CAST(qty * price - CASE WHEN h(i + 5) % 10 = 0 THEN 0.50 ELSE 0 END AS DECIMAL(38,10))
    AS line_revenue,
  CAST(CAST(qty AS DECIMAL(38,4)) * CAST(price * 0.6 AS DECIMAL(18,4)) AS DECIMAL(38,10)) AS line_cost,
  'store' AS channel, 'card' AS payment_method
FROM (
  SELECT i, CAST(DATE '{start}' + INTERVAL (i // {per_day}) DAY AS DATE) AS day,
    (i // 3) % {stores} AS store, h(i) % {products} AS product,
    CASE WHEN h(i + 1) % 33 = 0 THEN -1 ELSE 1 + h(i + 2) % 3 END AS qty,
    CAST(1.99 + h(i) % {products} % 97 AS DECIMAL(18,4)) AS price
  FROM range({first}, {last}) t(i)
)
"""


def line_sql(first: int, last: int, per_day: int, start: date, prefix: str, file_id: int) -> str:
    return LINE_SQL.format(
        source="'pos'",
        file_id=file_id,
        prefix=prefix,
        first=first,
        last=last,
        per_day=per_day,
        start=start.isoformat(),
        customers=CUSTOMERS,
        staff=PER_STORE_STAFF,
        stores=STORES,
        products=PRODUCTS,
    )


DIMENSION_SQL = (
    f"""INSERT INTO dim_store SELECT 'S' || lpad(CAST(s AS VARCHAR), 3, '0'), 'Store ' || s,
      'City ' || (s % 25), 'Region ' || (s % 5), 'FR', 'UTC', NULL, NULL FROM range({STORES}) t(s)""",
    f"""INSERT INTO dim_product SELECT 'P' || lpad(CAST(p AS VARCHAR), 5, '0'), 'Product ' || p,
      'Category ' || (p % 12), 'Sub ' || (p % 40), 'Brand ' || (p % 90), NULL, NULL
      FROM range({PRODUCTS}) t(p)""",
    f"""INSERT INTO dim_customer SELECT 'C' || lpad(CAST(c AS VARCHAR), 6, '0'), 'Customer ' || c,
      NULL, NULL FROM range({CUSTOMERS}) t(c)""",
    f"""INSERT INTO dim_salesperson SELECT 'E' || lpad(CAST(s AS VARCHAR), 3, '0') || '-' || CAST(k AS VARCHAR),
      'Seller ' || s || '-' || k, NULL, NULL FROM range({STORES}) a(s), range({PER_STORE_STAFF}) b(k)""",
    """INSERT INTO dim_date SELECT d, year(d), quarter(d), month(d), date_trunc('month', d), week(d),
      day(d), isodow(d), dayname(d), isodow(d) >= 6 FROM (
      SELECT CAST(unnest(generate_series(min(sale_date), max(sale_date), INTERVAL 1 DAY)) AS DATE) AS d
      FROM fact_sales) ON CONFLICT DO NOTHING""",
)

CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
timezone: UTC
currency: USD
sources:
  - name: pos
    landing: landing
    pattern: "*.csv"
    formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
"""
DAY_COLUMNS = (
    "transaction_id, line_no, strftime(sold_at, '%Y-%m-%d %H:%M:%S') AS sold_at, store_id, "
    "product_id, quantity, unit_price, discount, unit_cost, customer_id, salesperson_id"
)


def build_base(path: Path, lines: int) -> tuple[float, float]:
    """The warehouse before the new day: `lines` lines over DAYS days, every mart built."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")  # renamed only when complete
    partial.unlink(missing_ok=True)
    per_day = -(-lines // DAYS)
    with open_duckdb(partial) as wh:
        wh.con.execute(HASH_MACRO)
        # file_id 0: no ledger file, so data tests scoped to a run never include these lines
        wh.con.execute("INSERT INTO fact_sales " + line_sql(0, lines, per_day, START, "k", 0))
        for sql in DIMENSION_SQL:
            wh.con.execute(sql)
        generated = time.perf_counter() - started
        t0 = time.perf_counter()
        refresh_marts(wh.con, full=True)
        built = time.perf_counter() - t0
        wh.con.execute("CHECKPOINT")
    partial.rename(path)
    return generated, built


def write_day(folder: Path, day: date, day_lines: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"sales_{day.isoformat()}_{day_lines}.csv"
    if not out.exists():
        import duckdb

        with duckdb.connect() as con:
            con.execute(HASH_MACRO)
            sql = line_sql(0, day_lines, day_lines, day, f"d{day.isoformat()}-", 0)
            con.execute(f"COPY (SELECT {DAY_COLUMNS} FROM ({sql})) TO '{out}' (HEADER)")
    return out


def checksums(con: Any) -> dict[str, tuple[int, int | None]]:
    """Row count and an order-free hash of every mart (float columns left out)."""
    out: dict[str, tuple[int, int | None]] = {}
    for mart in BUILD_ORDER:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [mart.name]
        ).fetchall()[0][0]
        if not exists:
            continue
        exact = [c.name for c in mart.columns if c.type != FLOAT]
        n, h = con.execute(
            f"SELECT count(*), sum(hash({', '.join(exact)}) % 1000000007) FROM {mart.name}"
        ).fetchall()[0]
        out[mart.name] = (int(n), int(h) if h is not None else None)
    return out


def per_mart(report: Any) -> dict[str, float]:
    return {m.name: round(m.seconds, 3) for m in report.marts if m.mode != "skipped"}


def one_round(base: Path, work: Path, day_file: Path) -> dict[str, Any]:
    """Copy the built warehouse, land the day, refresh incrementally, then rebuild."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "landing").mkdir(parents=True)
    shutil.copy(base, work / "warehouse.duckdb")
    shutil.copy(day_file, work / "landing" / day_file.name)
    (work / "salespipe.yaml").write_text(CONFIG, encoding="utf-8")
    config = load_config(str(work / "salespipe.yaml"))
    source = config.sources[0]
    with open_duckdb(work / "warehouse.duckdb") as wh:
        ctx = LoadContext(config=config, source=source, run_id="bench")
        t0 = time.perf_counter()
        loaded = [load_file(wh, ctx, f) for f in discover_files(config, source)]
        load_s = time.perf_counter() - t0
        assert all(r.status == "loaded" for r in loaded), [r.error for r in loaded]
        dirty = dict(
            wh.con.execute("SELECT kind, count(*) FROM mart_dirty GROUP BY kind").fetchall()
        )
        t0 = time.perf_counter()
        incremental = refresh_marts(wh.con)
        incremental_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        checks = run_checks(wh.con, file_ids=[r.file_id for r in loaded if r.file_id])
        checks_s = time.perf_counter() - t0
        after_incremental = checksums(wh.con)
        t0 = time.perf_counter()
        full = refresh_marts(wh.con, full=True)
        full_s = time.perf_counter() - t0
        after_full = checksums(wh.con)
        lines = wh.con.execute("SELECT count(*) FROM fact_sales").fetchall()[0][0]
    shutil.rmtree(work, ignore_errors=True)
    return {
        "lines_after": int(lines),
        "load_day_s": round(load_s, 3),
        "dirty_keys": {str(k): int(v) for k, v in dirty.items()},
        "incremental_s": round(incremental_s, 3),
        "checks_s": round(checks_s, 3),
        "checks_ok": checks.ok,
        "full_rebuild_s": round(full_s, 3),
        "identical": after_incremental == after_full,
        "incremental_per_mart_s": per_mart(incremental),
        "full_per_mart_s": per_mart(full),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--day-lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1, help="land the day this many times")
    parser.add_argument("--quick", action="store_true", help="1M lines, a 20K-line day")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached warehouse")
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    args = parser.parse_args(argv)
    lines, day_lines = (1_000_000, 20_000) if args.quick else (args.lines, args.day_lines)

    base = DATA / f"base_{lines}.duckdb"
    generate_s: float | None = None
    first_build_s: float | None = None
    if args.rebuild or not base.exists():
        generated, built = build_base(base, lines)
        generate_s, first_build_s = round(generated, 3), round(built, 3)
    day = START + timedelta(days=DAYS)
    day_file = write_day(DATA / "days", day, day_lines)

    rounds = [one_round(base, DATA / "work", day_file) for _ in range(args.rounds)]
    incremental = [r["incremental_s"] for r in rounds]
    full = [r["full_rebuild_s"] for r in rounds]
    result = {
        "benchmark": "marts",
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average": list(os.getloadavg()),
        },
        "warehouse_lines": lines,
        "day_lines": day_lines,
        "new_day": day.isoformat(),
        "generate_s": generate_s,
        "first_build_s": first_build_s,
        "incremental_s": statistics.median(incremental),
        "incremental_target_s": TARGET_INCREMENTAL_S,
        "incremental_ok": statistics.median(incremental) <= TARGET_INCREMENTAL_S,
        "full_rebuild_s": statistics.median(full),
        "speedup": round(statistics.median(full) / statistics.median(incremental), 1),
        "rounds": rounds,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if all(r["identical"] for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
