"""Read a mart's rows with filters, ordering and paging, from declared columns only.

Mart names and column names come from the marts' declarations (a whitelist) and are
the only identifiers that reach SQL text; every user value is a bound parameter.
This module holds no web code, so the dashboard can share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from salespipe.errors import UsageError
from salespipe.marts import MARTS, Mart
from salespipe.marts.model import BOOL, DATE, FLOAT, INT, QTY, TEXT
from salespipe.marts.output import output_column

# Date filters apply to the first of these a mart has; month columns hold month starts,
# so `from` keeps the month that contains it.
DATE_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("sale_date", False),
    ("month", True),
    ("activity_month", True),
)

# filter parameter -> (column on the mart) or (key column, dimension, attribute)
MEMBER_FILTERS: dict[str, tuple[tuple[str, str | None, str | None], ...]] = {
    "store": (("store_id", None, None),),
    "region": (("region", None, None), ("store_id", "dim_store", "region")),
    "category": (("category", None, None), ("product_id", "dim_product", "category")),
    "product": (("product_id", None, None),),
    "salesperson": (("salesperson_id", None, None),),
}


# Text sorts by its bytes, as DuckDB sorts it, on every engine (a PostgreSQL database's
# locale would order 'a-b' after 'ab'), so pages and their order are the same everywhere.
BYTE_ORDER = ' COLLATE "C"'


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def public_mart(name: str) -> Mart | None:
    for mart in MARTS:
        if mart.name == name:
            return mart
    return None


def date_column(mart: Mart) -> tuple[str, bool] | None:
    names = mart.column_names
    for column, monthly in DATE_COLUMNS:
        if column in names:
            return column, monthly
    return None


def member_filter(mart: Mart, param: str) -> tuple[str, str | None, str | None] | None:
    names = mart.column_names
    for column, dimension, attribute in MEMBER_FILTERS[param]:
        if column in names:
            return column, dimension, attribute
    return None


def available_filters(mart: Mart) -> list[str]:
    found = ["from", "to"] if date_column(mart) else []
    return found + [p for p in MEMBER_FILTERS if member_filter(mart, p)]


def parse_order_by(mart: Mart, text: str | None) -> tuple[tuple[str, bool], ...]:
    """`col,-col2` -> ((col, False), (col2, True)); only the mart's own columns."""
    if not text:
        return ()
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        item = part.strip()
        descending = item.startswith("-")
        column = item[1:] if descending else item
        if column not in mart.column_names:
            raise UsageError(
                f"order_by: '{column}' is not a column of {mart.name}",
                field="order_by",
                hint="order by one of: " + ", ".join(mart.column_names),
            )
        order.append((column, descending))
    return tuple(order)


@dataclass(frozen=True)
class MartQuery:
    mart: Mart
    date_from: date | None = None
    date_to: date | None = None
    members: tuple[tuple[str, str], ...] = ()  # (filter parameter, value)
    order_by: tuple[tuple[str, bool], ...] = ()
    limit: int = 100
    offset: int = 0

    def where(self) -> tuple[str, list[Any]]:
        mart = self.mart
        clauses: list[str] = []
        params: list[Any] = []
        if self.date_from or self.date_to:
            found = date_column(mart)
            if found is None:
                param = "from" if self.date_from else "to"
                raise UsageError(
                    f"{param}: {mart.name} has no date to filter on",
                    field=param,
                    hint="filters of this mart: " + (", ".join(available_filters(mart)) or "none"),
                )
            column, monthly = found
            if self.date_from:
                start = "date_trunc('month', CAST(? AS DATE))" if monthly else "CAST(? AS DATE)"
                clauses.append(f"{quote(column)} >= {start}")
                params.append(self.date_from)
            if self.date_to:
                clauses.append(f"{quote(column)} <= CAST(? AS DATE)")
                params.append(self.date_to)
        for param, value in self.members:
            found_member = member_filter(mart, param)
            if found_member is None:
                raise UsageError(
                    f"{param}: {mart.name} cannot be filtered by {param}",
                    field=param,
                    hint="filters of this mart: " + (", ".join(available_filters(mart)) or "none"),
                )
            column, dimension, attribute = found_member
            if dimension and attribute:
                key = quote(column)
                clauses.append(
                    f"{key} IN (SELECT {key} FROM {dimension} WHERE {quote(attribute)} = ?)"
                )
            else:
                clauses.append(f"{quote(column)} = ?")
            params.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def order_sql(self) -> str:
        order = list(self.order_by)
        named = {c for c, _ in order}
        # The grain completes any ordering, so pages are stable.
        order += [(c, False) for c in self.mart.grain if c not in named]
        text = {c.name for c in self.mart.columns if c.type == TEXT}
        return ", ".join(
            f"{quote(c)}{BYTE_ORDER if c in text else ''} {'DESC' if d else 'ASC'}"
            for c, d in order
        )

    def select_list(self) -> str:
        # Rounded exactly as `marts show` and exports round (money to cents).
        return ", ".join(output_column(self.mart, name) for name in self.mart.column_names)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the warehouse's schema (read in the caller's snapshot)."""
    return {
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
    }


# Declared column types -> the Arrow types a page leaves with (money: cents, see below).
ARROW_TYPES: dict[str, pa.DataType] = {
    DATE: pa.date32(),
    TEXT: pa.string(),
    INT: pa.int64(),
    QTY: pa.decimal128(38, 4),
    FLOAT: pa.float64(),
    BOOL: pa.bool_(),
}


def conform(table: pa.Table, mart: Mart) -> pa.Table:
    """A page in the types the mart declares, whichever engine computed it (a type not
    in ARROW_TYPES keeps the engine's own)."""
    fields = []
    for i, (column, found) in enumerate(zip(mart.columns, table.schema, strict=True)):
        declared = (
            pa.decimal128(38, column.output_scale or 2)
            if column.money
            else ARROW_TYPES.get(column.type, found.type)
        )
        if pa.types.is_decimal(found.type) and pa.types.is_floating(declared):
            # Arrow scales decimals to floats inexactly (36.66 -> 36.660000000000004);
            # through the text the nearest float comes out, as a float column holds it.
            text = table.column(i).cast(pa.string())
            table = table.set_column(i, found.name, text.cast(declared))
        fields.append(pa.field(column.name, declared))
    return table.cast(pa.schema(fields))


def read_mart(con: duckdb.DuckDBPyConnection, query: MartQuery) -> tuple[pa.Table, int]:
    """One page of the mart as an Arrow table, and how many rows match the filters."""
    where, params = query.where()
    table_name = quote(query.mart.name)
    total_row = con.execute(f"SELECT count(*) FROM {table_name}{where}", params).fetchall()
    total = int(total_row[0][0]) if total_row else 0
    page = con.sql(
        f"SELECT {query.select_list()} FROM {table_name}{where} ORDER BY {query.order_sql()} "
        "LIMIT ? OFFSET ?",
        params=[*params, query.limit, query.offset],
    ).to_arrow_table()
    return conform(page, query.mart), total
