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
    return f"round({name}, {scale}) AS {name}"


def output_select(mart: Mart, table: str | None = None) -> str:
    """`SELECT <rounded columns> FROM <mart> ORDER BY <grain>`."""
    cols = ", ".join(output_column(mart, c) for c in mart.column_names)
    return f"SELECT {cols} FROM {table or mart.name} ORDER BY {', '.join(mart.grain)}"
