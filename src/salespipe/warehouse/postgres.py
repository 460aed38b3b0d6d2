"""The PostgreSQL warehouse: the same schema, loads through COPY, SQL transpiled from DuckDB's dialect.

Shared code writes SQL once, in DuckDB's dialect, and calls `execute(sql, params)` with
`?` placeholders; `PgConnection` transpiles it with SQLGlot (cached) and runs it with
psycopg, returning results with the same `fetchall()` / `description` shape. The fact
table is partitioned by month; partitions are created on demand inside the load.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

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


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> tuple[str, int]:
    """Transpile DuckDB SQL to PostgreSQL; `?` placeholders become %(n)s.

    Returns the statements joined by ";\n" and the number of placeholders."""
    statements = sqlglot.parse(sql, read="duckdb")
    out: list[str] = []
    count = 0
    for tree in statements:
        if tree is None:
            continue

        def number(node: exp.Expr) -> exp.Expr:
            nonlocal count
            if isinstance(node, exp.Placeholder) and not node.this:
                count += 1
                return exp.Placeholder(this=str(count))
            return node

        tree = tree.transform(number).transform(_round_numeric)
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

    def execute_native(self, sql: str, params: dict[str, Any] | None = None) -> PgResult:
        """Run PostgreSQL SQL as written (for what has no DuckDB spelling)."""
        return PgResult(self.raw.execute(sql, params, prepare=False))

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
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION]
        )
    finally:
        con.execute_native("SELECT pg_advisory_unlock(7401)")


def ensure_partitions(con: PgConnection, months: list[date]) -> None:
    """Create the monthly partitions a load needs (inside its transaction)."""
    for month in sorted(set(months)):
        start = month.replace(day=1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        name = f"fact_sales_{start:%Y_%m}"
        con.execute_native("SELECT pg_advisory_xact_lock(7402)")
        con.execute_native(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF fact_sales "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )


@dataclass
class PostgresWarehouse:
    url: str
    con: PgConnection
    read_only: bool
    staging_con: Any = None  # an in-memory DuckDB connection where files are read and validated

    name = "postgres"
    stages_in_place = False

    @property
    def staging(self) -> Any:
        return self.staging_con

    def close(self) -> None:
        self.con.close()
        if self.staging_con is not None:
            self.staging_con.close()

    def __enter__(self) -> PostgresWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_postgres(url: str, *, read_only: bool = False) -> PostgresWarehouse:
    import duckdb

    con = PgConnection(_connect(url))
    create_schema(con)  # idempotent; read-only callers need the tables to exist too
    staging = duckdb.connect()
    staging.execute("SET TimeZone = 'UTC'")
    return PostgresWarehouse(url=url, con=con, read_only=read_only, staging_con=staging)
