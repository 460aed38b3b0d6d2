"""How marts leave the warehouse: money rounded to cents (and ratios to 2 places) only here."""

from __future__ import annotations

from salespipe.marts.model import Mart


def output_column(mart: Mart, name: str) -> str:
    """The SELECT expression of one column at output (its declared output scale)."""
    column = mart.column(name)
    scale = column.output_scale
    if scale is None:
        return name
    if column.money:
        return f"CAST(round({name}, {scale}) AS DECIMAL(38,{scale})) AS {name}"
    # A ratio is a double: 4.89 / 8 * 100 is stored as 61.12499999999999. Rounded as a
    # double it would be 61.12 on DuckDB and 61.13 on PostgreSQL (whose round goes through
    # numeric); read at 10 places first, it is 61.125 on both, and rounds half up to 61.13,
    # as exact arithmetic does. Infinities and NaN pass as they are.
    return (
        f"CASE WHEN abs({name}) < 1e27 THEN CAST(round(CAST({name} AS DECIMAL(38,10)), {scale}) "
        f"AS DOUBLE) ELSE {name} END AS {name}"
    )


def output_select(mart: Mart, table: str | None = None) -> str:
    """`SELECT <rounded columns> FROM <mart> ORDER BY <grain>`."""
    cols = ", ".join(output_column(mart, c) for c in mart.column_names)
    return f"SELECT {cols} FROM {table or mart.name} ORDER BY {', '.join(mart.grain)}"
