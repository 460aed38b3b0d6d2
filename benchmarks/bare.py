"""The engine's limit: DuckDB's bare read_csv -> CREATE TABLE of a file into a database file.

No validation, no quarantine, no dedup, no ledger: what salespipe's load is measured against.

    python benchmarks/bare.py FILE --db out.duckdb [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb


def load_bare(path: Path, db: Path) -> tuple[int, float]:
    """Create table `t` from the file in a fresh database; return (rows, seconds)."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    literal = "'" + str(path).replace("'", "''") + "'"
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({literal})")
    row = con.execute("SELECT count(*) FROM t").fetchone()
    con.close()
    return (int(row[0]) if row else 0), time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="CSV file to load")
    parser.add_argument("--db", type=Path, required=True, help="DuckDB file to create (replaced)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    rows, seconds = load_bare(args.file, args.db)
    if args.json:
        print(json.dumps({"rows_in": rows, "rows_loaded": rows, "seconds": round(seconds, 3)}))
    else:
        print(f"{rows} rows in {seconds:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
