"""PostgreSQL's limit: a bare server-side COPY of a CSV file into one typed table.

No validation, no quarantine, no dedup, no ledger, no indexes, no marts: what
salespipe's PostgreSQL load is measured against (`benchmarks/bench_postgres.py`).
The server reads the file itself (`COPY t FROM '/path'`), so it must be able to
read it and the user must be a superuser or in `pg_read_server_files`.

    python benchmarks/bare_postgres.py FILE --url postgresql://... [--text] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import psycopg

# The canonical columns `salespipe generate` writes, typed as salespipe's contract types them.
TYPES = {
    "sold_at": "timestamp",
    "quantity": "numeric(18,4)",
    "unit_price": "numeric(18,4)",
    "discount": "numeric(18,4)",
    "unit_cost": "numeric(18,4)",
}


def load_bare(path: Path, url: str, *, text: bool = False) -> tuple[int, float]:
    """Replace table `t` with the file's rows; return (rows, seconds)."""
    with path.open(newline="") as fh:
        header = next(csv.reader(fh))
    columns = ", ".join(
        f'"{name}" {"text" if text else TYPES.get(name, "text")}' for name in header
    )
    literal = "'" + str(path.resolve()).replace("'", "''") + "'"
    started = time.perf_counter()
    with psycopg.connect(url) as conn:  # one transaction, committed on exit
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute(f"CREATE TABLE t ({columns})")
        cursor = conn.execute(f"COPY t FROM {literal} (FORMAT csv, HEADER true)")
        rows = cursor.rowcount
    return rows, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="CSV file to load (readable by the server)")
    parser.add_argument("--url", required=True, help="postgresql:// URL of the target database")
    parser.add_argument("--text", action="store_true", help="every column as text (no parsing)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    rows, seconds = load_bare(args.file, args.url, text=args.text)
    if args.json:
        print(json.dumps({"rows_in": rows, "rows_loaded": rows, "seconds": round(seconds, 3)}))
    else:
        print(f"{rows} rows in {seconds:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
