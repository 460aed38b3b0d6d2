"""Keep contract SQL inside the row: expressions and rules may not read files, tables or settings.

The config validation calls `check_expression` on every `{expr: ...}` and rule `check`
before anything runs; `compile` then embeds the same text in the staging SELECT.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from salespipe.errors import ContractError

# Functions that read files, the network, settings, the environment or the catalog, or
# run SQL given as text. Names are compared lower-case and without schema or catalog.
FORBIDDEN_FUNCTIONS = frozenset(
    {
        "glob",
        "sniff_csv",
        "query",
        "query_table",
        "current_setting",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
        "current_query",
        "current_user",
        "session_user",
        "getenv",
        "getvariable",
        "which_secret",
        "load",
        "install",
        "force_install",
        "checkpoint",
        "force_checkpoint",
        "nextval",
        "currval",
        "json_execute_serialized_sql",
        "json_serialize_plan",
        "arrow_scan",
        "seq_scan",
        "summary",
        "st_read",
        "st_read_meta",
        "st_drivers",
    }
)
FORBIDDEN_PREFIXES = (
    "read_",
    "parquet_",
    "duckdb_",
    "pragma_",
    "http",
    "iceberg_",
    "delta_",
    "ducklake_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "azure_",
    "load_",
    "install_",
    "sniff_",
)

# sqlglot nodes that leave the row: queries, table references and whole statements.
_FORBIDDEN_NODES: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Subquery, "a subquery"),
    (exp.Query, "a SELECT"),
    (exp.With, "a WITH clause"),
    (exp.From, "a FROM clause"),
    (exp.Table, "a table reference"),
    (exp.Join, "a JOIN"),
    (exp.Lateral, "a LATERAL clause"),
    (exp.Command, "an SQL statement"),
    (exp.Pragma, "a PRAGMA"),
    (exp.Set, "a SET statement"),
    (exp.Use, "a USE statement"),
    (exp.Copy, "a COPY statement"),
    (exp.Attach, "an ATTACH statement"),
    (exp.Detach, "a DETACH statement"),
    (exp.Install, "an INSTALL statement"),
    (exp.DDL, "an SQL statement"),
    (exp.DML, "an SQL statement"),
)
# The top-level clauses of `SELECT (<expression>)` that must stay empty in DuckDB's parse.
_EMPTY_CLAUSES = ("where_clause", "having", "qualify", "sample")
_EMPTY_LISTS = ("group_expressions", "group_sets", "modifiers")


class UnsafeExpressionError(ContractError):
    """An expression or rule uses SQL that reaches outside its row (or cannot be checked)."""

    def __init__(self, construct: str) -> None:
        super().__init__(
            f"{construct} is not allowed here: expressions and rules are computed from the "
            "row's own columns, and may not read files, tables, settings or other SQL",
            hint="use the row's columns with scalar functions (string, date, CASE, CAST, "
            "regexp_*, window functions); join reference data with `lookups:` "
            "(docs/contracts.md, 'What expressions may use')",
        )
        self.construct = construct


def forbidden_function(name: str) -> bool:
    """True for a function that reads outside the row; `name` may be quoted or qualified."""
    bare = name.strip().strip('"').rsplit(".", 1)[-1].strip('"').lower()
    return bare in FORBIDDEN_FUNCTIONS or bare.startswith(FORBIDDEN_PREFIXES)


def check_expression(sql: str) -> None:
    """Raise UnsafeExpressionError when `sql` is not a scalar expression over the row."""
    construct = find_unsafe(sql)
    if construct is not None:
        raise UnsafeExpressionError(construct)


@lru_cache(maxsize=1024)
def find_unsafe(sql: str) -> str | None:
    """The first construct of `sql` that reaches outside the row, described, or None.

    Two parsers must agree: sqlglot (which the compiler reads columns with) and DuckDB's
    own parser, which has the last word because DuckDB is what runs the text; an
    expression either of them cannot read is refused, as it cannot be proven safe.
    """
    return _sqlglot_unsafe(sql) or _duckdb_unsafe(sql)


def _sqlglot_unsafe(sql: str) -> str | None:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        return f"SQL that is not a single valid expression ({str(exc).splitlines()[0]})"
    for node in tree.walk():
        for kind, construct in _FORBIDDEN_NODES:
            if isinstance(node, kind):
                return construct
        if isinstance(node, exp.Func):
            names = {node.name if isinstance(node, exp.Anonymous) else node.sql_name()}
            names.update(type(node).sql_names())
            bad = sorted(n for n in names if n and forbidden_function(n))
            if bad:
                return f"the function {bad[0].lower()}()"
    return None


def _duckdb_unsafe(sql: str) -> str | None:
    # The compiler embeds the text in parentheses the same way: `CAST((<sql>) AS ...)`.
    statement = "SELECT (" + sql + ")"
    connection = duckdb.connect(
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
        }
    )
    try:
        row = connection.execute("SELECT json_serialize_sql(?)", [statement]).fetchone()
    finally:
        connection.close()
    parsed: dict[str, Any] = json.loads(row[0]) if row else {"error": True}
    if parsed.get("error"):
        reason = parsed.get("error_message", "it does not parse")
        return f"SQL that is not a single valid expression ({reason})"
    statements = parsed.get("statements", [])
    if len(statements) != 1:
        return "more than one SQL statement"
    top = statements[0].get("node", {})
    if len(top.get("select_list", [])) != 1:
        return "more than one expression"
    found = _duckdb_node_unsafe(top)
    if found:
        return found
    if any(top.get(c) is not None for c in _EMPTY_CLAUSES) or any(top.get(c) for c in _EMPTY_LISTS):
        return "SQL clauses after the expression"
    return None


def _duckdb_node_unsafe(node: Any) -> str | None:
    """Walk DuckDB's parse tree generically, so a new node kind is still searched."""
    if isinstance(node, list):
        for item in node:
            found = _duckdb_node_unsafe(item)
            if found:
                return found
        return None
    if not isinstance(node, dict):
        return None
    if node.get("class") == "SUBQUERY" or "subquery" in node:
        return "a subquery"
    from_table = node.get("from_table")
    if isinstance(from_table, dict) and from_table.get("type") != "EMPTY":
        return "a FROM clause"
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict) and cte_map.get("map"):
        return "a WITH clause"
    name = node.get("function_name")
    if isinstance(name, str) and forbidden_function(name):
        return f"the function {name.lower()}()"
    return _duckdb_node_unsafe(list(node.values()))
