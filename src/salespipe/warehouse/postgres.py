"""The PostgreSQL warehouse: the same schema, loads through COPY, SQL transpiled from DuckDB's dialect.

Shared code writes SQL once, in DuckDB's dialect, and calls `execute(sql, params)` with
`?` placeholders; `PgConnection` transpiles it with SQLGlot (cached) and runs it with
psycopg, returning results with the same `fetchall()` / `description` shape. The fact
table is partitioned by month; partitions are created on demand inside the load.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import TokenType, exp

from salespipe.errors import MissingExtraError, WarehouseError
from salespipe.warehouse.schema import DDL, FACT_COLUMNS, SCHEMA_VERSION


def _round_numeric(node: exp.Expr) -> exp.Expr:
    """PostgreSQL rounds to n places only NUMERIC values; DuckDB rounds doubles too."""
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        inner = node.this
        if not (isinstance(inner, exp.Cast) and inner.to.this == exp.DataType.Type.DECIMAL):
            node = node.copy()
            node.set("this", exp.cast(inner, exp.DataType.build("DECIMAL")))
    return node


def _numbered(sql: str) -> tuple[str, int]:
    """`?` -> `$1`, `$2`, ... in the order written (a parsed tree's walk visits LIMIT before
    WHERE, so numbering the tree would bind the values to the wrong places)."""
    starts = [
        t.start
        for t in sqlglot.tokenize(sql, read="duckdb")
        if t.token_type == TokenType.PLACEHOLDER and t.text == "?"
    ]
    parts, last = [], 0
    for number, start in enumerate(starts, 1):
        parts += [sql[last:start], f"${number}"]
        last = start + 1
    return "".join(parts) + sql[last:], len(starts)


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> tuple[str, int]:
    """Transpile DuckDB SQL to PostgreSQL; `?` placeholders become %(n)s.

    Returns the statements joined by ";\n" and the number of placeholders."""
    numbered, count = _numbered(sql)
    statements = sqlglot.parse(numbered, read="duckdb")
    out: list[str] = []
    for tree in statements:
        if tree is None:
            continue
        tree = tree.transform(_round_numeric)
        if isinstance(tree, exp.Create) and tree.args.get("replace") and tree.kind == "TABLE":
            # PostgreSQL has no CREATE OR REPLACE TABLE
            target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
            out.append(f"DROP TABLE IF EXISTS {target.sql(dialect='postgres')}")
            tree = tree.copy()
            tree.set("replace", False)
        if count:
            # psycopg reads % as a parameter marker when parameters are passed
            def escape(node: exp.Expr) -> exp.Expr:
                if isinstance(node, exp.Literal) and node.is_string and "%" in node.this:
                    return exp.Literal.string(node.this.replace("%", "%%"))
                return node

            tree = tree.transform(escape)
        out.append(tree.sql(dialect="postgres"))
    return ";\n".join(out), count


class PgResult:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._cursor.description is None:
            return []
        return [tuple(r) for r in self._cursor.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    def to_arrow_table(self) -> Any:
        """The rows as a pyarrow Table, types inferred from the exact Python values
        (callers cast to their declared schema, as they do DuckDB's Arrow)."""
        import pyarrow as pa

        names = [d[0] for d in self._cursor.description or []]
        rows = self.fetchall()
        return pa.table({n: pa.array([r[i] for r in rows]) for i, n in enumerate(names)})


@dataclass
class PgConnection:
    """A psycopg connection that speaks DuckDB's dialect (see module docstring)."""

    raw: Any  # psycopg.Connection, autocommit; BEGIN/COMMIT are issued explicitly
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] | None = None) -> PgResult:
        stripped = sql.strip().rstrip(";").upper()
        if stripped in ("BEGIN", "BEGIN TRANSACTION", "COMMIT", "ROLLBACK"):
            return PgResult(self.raw.execute(stripped.replace(" TRANSACTION", "")))
        pg_sql, count = to_postgres(sql)
        args = {str(i + 1): v for i, v in enumerate(params or [])} if count else None
        if count and len(params or []) != count:
            raise ValueError(f"{count} placeholders but {len(params or [])} parameters")
        result = None
        for statement in pg_sql.split(";\n"):
            used = (
                {k: v for k, v in (args or {}).items() if f"%({k})s" in statement} if args else None
            )
            if args and not used:
                statement = statement.replace("%%", "%")  # escaped for parameters it does not take
            result = self.raw.execute(statement, used or None, prepare=False)
        return PgResult(result)

    def sql(self, query: str, params: list[Any] | None = None) -> PgResult:
        """DuckDB's relation API as far as readers use it: `.to_arrow_table()`."""
        return self.execute(query, params)

    def execute_native(self, sql: str, params: dict[str, Any] | None = None) -> PgResult:
        """Run PostgreSQL SQL as written (for what has no DuckDB spelling)."""
        return PgResult(self.raw.execute(sql, params, prepare=False))

    def begin_serialized(self, lock: int) -> None:
        """Begin a transaction that reads one snapshot (REPEATABLE READ), taken after the
        session lock `lock` is held: a second holder waits, then sees the first's commit."""
        self.raw.execute("SELECT pg_advisory_lock(%s)", [lock])
        try:
            self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        except BaseException:
            self.raw.execute("SELECT pg_advisory_unlock(%s)", [lock])
            raise

    def end_serialized(self, lock: int, *, commit: bool) -> None:
        try:
            self.raw.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            self.raw.execute("SELECT pg_advisory_unlock(%s)", [lock])

    def begin_snapshot(self) -> None:
        """Begin a transaction whose statements all read one snapshot of committed data."""
        self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A failed statement inside undoes only itself, not the whole transaction."""
        self.raw.execute("SAVEPOINT salespipe_step")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK TO SAVEPOINT salespipe_step")
            raise
        self.raw.execute("RELEASE SAVEPOINT salespipe_step")

    def cursor(self) -> PgConnection:
        """A new connection to the same database (DuckDB's cursor() is one per thread too)."""
        return PgConnection(_connect(self.raw.info.dsn))

    def close(self) -> None:
        self.raw.close()


def _connect(url: str) -> Any:
    try:
        import psycopg
        from psycopg.types.json import set_json_loads
    except ImportError:
        raise MissingExtraError("psycopg", "postgres") from None
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise WarehouseError(
            f"cannot connect to PostgreSQL: {str(exc).strip().splitlines()[0]}",
            hint="check the warehouse URL, that the server runs, and the user's password (PGPASSWORD)",
        ) from None
    # JSON columns come back as text, exactly as from DuckDB.
    set_json_loads(lambda value: value if isinstance(value, str) else bytes(value).decode(), conn)
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


FACT_INDEXES = (
    "CREATE INDEX IF NOT EXISTS fact_sales_key ON fact_sales (source, row_key)",
    "CREATE INDEX IF NOT EXISTS fact_sales_date ON fact_sales (sale_date, store_id)",
    "CREATE INDEX IF NOT EXISTS fact_sales_product ON fact_sales (product_id)",
    "CREATE INDEX IF NOT EXISTS fact_sales_customer ON fact_sales (customer_id)",
    "CREATE INDEX IF NOT EXISTS fact_sales_file ON fact_sales (file_id)",
)


# The commit counter the API's snapshot id starts with: a deferred trigger bumps it once
# per transaction that changes the ledger or the marts' state, at commit and under a
# counter row's lock, so its order is the commit order (file ids, drawn before the
# commit, are not when several processes load at once). Loads count in row 1, mart
# refreshes in row 2: a refresh reads one snapshot (REPEATABLE READ), and a row that a
# load updated after that snapshot would fail its commit; refreshes are serialized, so
# row 2 never is. Readers take the sum, which grows with every commit they can see.
# Created (or upgraded from the one-row counter) only where missing.
COMMIT_COUNTER_DDL = """
DO $$
BEGIN
  IF to_regclass('salespipe_commits') IS NULL THEN
    CREATE TABLE salespipe_commits (id INTEGER PRIMARY KEY, commits BIGINT NOT NULL,
      last_xid BIGINT);
    INSERT INTO salespipe_commits VALUES (1, 0, NULL);
  END IF;
  INSERT INTO salespipe_commits VALUES (2, 0, NULL) ON CONFLICT DO NOTHING;
  IF to_regprocedure('salespipe_count_commit()') IS NULL OR NOT EXISTS (
      SELECT 1 FROM pg_proc WHERE proname = 'salespipe_count_commit'
      AND prosrc LIKE '%TG_TABLE_NAME%') THEN
    CREATE OR REPLACE FUNCTION salespipe_count_commit() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE
      counter INTEGER := CASE WHEN TG_TABLE_NAME = 'mart_state' THEN 2 ELSE 1 END;
    BEGIN
      UPDATE salespipe_commits SET commits = commits + 1, last_xid = txid_current()
        WHERE id = counter AND last_xid IS DISTINCT FROM txid_current();
      RETURN NULL;
    END $f$;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'files'::regclass
                 AND tgname = 'salespipe_files_commit') THEN
    CREATE CONSTRAINT TRIGGER salespipe_files_commit AFTER INSERT OR UPDATE OR DELETE ON files
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION salespipe_count_commit();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'mart_state'::regclass
                 AND tgname = 'salespipe_marts_commit') THEN
    CREATE CONSTRAINT TRIGGER salespipe_marts_commit
      AFTER INSERT OR UPDATE OR DELETE ON mart_state
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION salespipe_count_commit();
  END IF;
END $$
"""


def _pg_type(sql_type: str) -> str:
    return (
        to_postgres(f"CREATE TABLE t (c {sql_type})")[0]
        .removeprefix("CREATE TABLE t (c ")
        .removesuffix(")")
    )


def create_schema(con: PgConnection) -> None:
    # One creator at a time: concurrent first runs must not race on CREATE.
    con.execute_native("SELECT pg_advisory_lock(7401)")
    try:
        for statement in DDL:
            if statement.lstrip().upper().startswith("CREATE TABLE IF NOT EXISTS FACT_SALES"):
                columns = ", ".join(f"{name} {_pg_type(t)}" for name, t in FACT_COLUMNS)
                con.execute_native(
                    f"CREATE TABLE IF NOT EXISTS fact_sales ({columns}) PARTITION BY RANGE (sale_date)"
                )
                continue
            con.execute(statement)
        for statement in FACT_INDEXES:
            con.execute_native(statement)
        con.execute_native(COMMIT_COUNTER_DDL)
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION]
        )
    finally:
        con.execute_native("SELECT pg_advisory_unlock(7401)")


def ensure_partitions(con: PgConnection, months: list[date]) -> None:
    """Create the monthly partitions a load needs (inside its transaction)."""
    for month in missing_partitions(con, months):
        create_detached_partition(con, month)
        attach_partition(con, month)


@dataclass(frozen=True)
class Partition:
    """The fact table's partition of one calendar month: [start, end)."""

    name: str
    start: date
    end: date

    @classmethod
    def of(cls, month: date) -> Partition:
        start = month.replace(day=1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return cls(f"fact_sales_{start:%Y_%m}", start, end)


def missing_partitions(con: PgConnection, months: list[date]) -> list[date]:
    """The months (first days) that have no partition yet. Takes the partition lock,
    held to the end of the transaction, so that concurrent loads never race on one."""
    con.execute_native("SELECT pg_advisory_xact_lock(7402)")
    firsts = sorted({m.replace(day=1) for m in months})
    names = [Partition.of(m).name for m in firsts]
    found = con.execute_native(
        "SELECT n FROM unnest(%(names)s::text[]) n WHERE to_regclass(n) IS NULL", {"names": names}
    ).fetchall()
    missing = {str(r[0]) for r in found}
    return [m for m in firsts if Partition.of(m).name in missing]


def create_detached_partition(con: PgConnection, month: date) -> Partition:
    """A plain table shaped like fact_sales, to fill before `attach_partition`: without
    indexes while it fills, with its range as a CHECK so that attaching needs no scan."""
    p = Partition.of(month)
    con.execute_native(
        f"CREATE TABLE {p.name} (LIKE fact_sales, CONSTRAINT {p.name}_range "
        f"CHECK (sale_date >= '{p.start.isoformat()}' AND sale_date < '{p.end.isoformat()}'))"
    )
    return p


def attach_partition(con: PgConnection, month: date) -> None:
    """Attach a table made by `create_detached_partition`. ATTACH builds the fact indexes
    on it in bulk and locks fact_sales only against DDL (SHARE UPDATE EXCLUSIVE), where
    CREATE TABLE ... PARTITION OF would lock every reader out until the load commits."""
    p = Partition.of(month)
    con.execute_native(
        f"ALTER TABLE fact_sales ATTACH PARTITION {p.name} "
        f"FOR VALUES FROM ('{p.start.isoformat()}') TO ('{p.end.isoformat()}')"
    )
    con.execute_native(f"ALTER TABLE {p.name} DROP CONSTRAINT {p.name}_range")


@dataclass
class PostgresWarehouse:
    url: str
    con: PgConnection
    read_only: bool
    staging_con: Any = None  # an in-memory DuckDB connection where files are read and validated
    spill_dir: str | None = None  # where that connection spills past its memory limit

    name = "postgres"
    stages_in_place = False
    single_writer = False
    text_holds_nul = False  # PostgreSQL text refuses the NUL character

    @property
    def staging(self) -> Any:
        return self.staging_con

    def close(self) -> None:
        self.con.close()
        if self.staging_con is not None:
            self.staging_con.close()
        if self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)

    def __enter__(self) -> PostgresWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _duckdb_type(data_type: str, precision: int | None, scale: int | None) -> str:
    """The DuckDB type a PostgreSQL column's values are exact in."""
    kind = data_type.lower()
    if kind == "numeric":
        return f"DECIMAL({precision},{scale})" if precision else "DECIMAL(38,10)"
    return {
        "bigint": "BIGINT",
        "integer": "INTEGER",
        "smallint": "SMALLINT",
        "double precision": "DOUBLE",
        "real": "DOUBLE",
        "date": "DATE",
        "timestamp with time zone": "TIMESTAMPTZ",
        "timestamp without time zone": "TIMESTAMP",
        "boolean": "BOOLEAN",
        "json": "JSON",
        "jsonb": "JSON",
    }.get(kind, "VARCHAR")


def pull_table(wh: PostgresWarehouse, table: str) -> None:
    """Copy a warehouse table into the staging DuckDB under the same name, with exact
    types (for what DuckDB writes locally: exports to files, the Parquet lake).

    The rows travel as CSV through COPY TO STDOUT into a temporary file, read back with
    each column cast to the DuckDB type of its PostgreSQL type.
    """
    columns = wh.con.execute_native(
        "SELECT column_name, data_type, numeric_precision, numeric_scale "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %(t)s ORDER BY ordinal_position",
        {"t": table},
    ).fetchall()
    if not columns:
        raise WarehouseError(f"no table {table} in the warehouse")
    names = [str(c[0]) for c in columns]
    fd, path = tempfile.mkstemp(prefix="salespipe-pull-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as out, wh.con.raw.cursor() as cur:
            quoted = ", ".join(f'"{n}"' for n in names)
            with cur.copy(f"COPY (SELECT {quoted} FROM {table}) TO STDOUT (FORMAT csv)") as copy:
                for chunk in copy:
                    out.write(chunk)
        text_columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
        casts = ", ".join(
            f'CAST("{n}" AS {_duckdb_type(str(t), p, s)}) AS "{n}"' for n, t, p, s in columns
        )
        wh.staging.execute(f"DROP TABLE IF EXISTS {table}")
        wh.staging.execute(
            f"CREATE TEMP TABLE {table} AS SELECT {casts} FROM read_csv('{path}', "
            f"columns={text_columns}, header=false, auto_detect=false, quote='\"', "
            "escape='\"', nullstr='', allow_quoted_nulls=false, max_line_size=100000000)"
        )
    finally:
        os.unlink(path)


def open_postgres(url: str, *, read_only: bool = False) -> PostgresWarehouse:
    import duckdb

    from salespipe.warehouse.duckdb import WRITER_MEMORY_LIMIT

    con = PgConnection(_connect(url))
    ready = con.execute_native(
        "SELECT to_regclass('files') IS NOT NULL AND to_regclass('salespipe_commits') IS NOT NULL"
    ).fetchall()[0][0]
    if not (read_only and ready):
        # idempotent; a reader of a warehouse that exists (an analyst's read-only role,
        # say) creates nothing, and needs no CREATE privilege
        create_schema(con)
    # Files are staged in memory here, bounded like a DuckDB writer: past the limit DuckDB
    # spills to a private temporary directory (removed with it on close).
    spill = tempfile.mkdtemp(prefix="salespipe-staging-")
    staging = duckdb.connect(config={"temp_directory": spill})
    staging.execute("SET TimeZone = 'UTC'")
    staging.execute("SET enable_progress_bar = false")
    staging.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
    return PostgresWarehouse(
        url=url, con=con, read_only=read_only, staging_con=staging, spill_dir=spill
    )
