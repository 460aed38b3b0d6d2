"""How a mart is declared: grain, columns with their tests, needed fields, named SQL steps.

A mart's SQL is written once in DuckDB's dialect with `{placeholders}` for the tables
it reads, so the same definition runs over the whole warehouse (full rebuild), over
scoped views (incremental refresh) and, transpiled by SQLGlot, on other engines.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field

from salespipe.marts.fragments import FRAGMENTS

# Column types, in DuckDB's dialect (SQLGlot maps them for other engines).
DATE = "DATE"
TEXT = "VARCHAR"
INT = "BIGINT"
MONEY = "DECIMAL(38,10)"  # exact; rounded to cents only at output
QTY = "DECIMAL(38,4)"
FLOAT = "DOUBLE"  # ratios and statistics
BOOL = "BOOLEAN"

# The tables every mart may read, besides other marts; keys are the placeholders.
BASE_TABLES: dict[str, str] = {
    "fact": "fact_sales",
    "dim_product": "dim_product",
    "dim_store": "dim_store",
    "dim_customer": "dim_customer",
    "dim_salesperson": "dim_salesperson",
    "dim_date": "dim_date",
    "store_zones": "store_zones",
}


@dataclass(frozen=True)
class Column:
    """One output column, with the data tests generated from its declaration."""

    name: str
    type: str
    description: str
    not_null: bool = False
    money: bool = False  # rounded to cents at output
    accepted: tuple[str, ...] = ()  # accepted values (text columns)
    min_value: float | None = None  # accepted range, inclusive
    max_value: float | None = None
    references: str | None = None  # a dimension table whose key this column is

    @property
    def output_scale(self) -> int | None:
        """Decimal places at output: cents for money, 2 for ratios, none otherwise."""
        if self.money:
            return 2
        if self.type == FLOAT:
            return 2
        return None


def key(
    name: str, type: str, description: str, *, nullable: bool = False, references: str | None = None
) -> Column:
    """A grain column: part of the mart's unique key, not null unless declared nullable."""
    return Column(name, type, description, not_null=not nullable, references=references)


def money(
    name: str, description: str, *, not_null: bool = False, min_value: float | None = None
) -> Column:
    """An exact amount in the reporting currency."""
    return Column(name, MONEY, description, not_null=not_null, money=True, min_value=min_value)


@dataclass(frozen=True)
class Scoped:
    """A source an incremental refresh reads only in part.

    By date or month: the target partitions and `lookback` earlier ones, filtered on
    the source's `sale_date`. By member: the target members.
    """

    source: str
    lookback: int = 0


FACT = Scoped("fact")


@dataclass(frozen=True)
class ByDate:
    """Rows are partitioned by business day; a dirty day recomputes its own rows.

    `ahead`: a day's lines also change the rows of this many following days (a rolling
    window), which are recomputed too.
    """

    column: str = "sale_date"
    ahead: int = 0
    scoped: tuple[Scoped, ...] = (FACT,)

    label = "by day"

    def describe(self) -> str:
        if self.ahead:
            return (
                f"incremental by `{self.column}`: a changed day recomputes it and the "
                f"{self.ahead} following days"
            )
        return f"incremental by `{self.column}`: a changed day recomputes that day"


@dataclass(frozen=True)
class ByMonth:
    """Rows are partitioned by calendar month (its first day); a dirty day dirties its month.

    `ahead`: a month's lines also change the rows of this many following months
    (mom_pct), which are recomputed too.
    """

    column: str = "month"
    ahead: int = 0
    scoped: tuple[Scoped, ...] = (FACT,)

    label = "by month"

    def describe(self) -> str:
        if self.ahead:
            return (
                f"incremental by `{self.column}`: a changed month recomputes it and the "
                f"{self.ahead} following month(s)"
            )
        return f"incremental by `{self.column}`: a changed month recomputes that month"


@dataclass(frozen=True)
class ByMember:
    """Rows are partitioned by a member key (customer...); a dirty member recomputes its rows."""

    column: str
    kind: str  # the mart_dirty kind holding these keys
    scoped: tuple[Scoped, ...] = (FACT,)

    @property
    def label(self) -> str:
        return f"by {self.kind}"

    def describe(self) -> str:
        return f"incremental by `{self.column}`: a changed {self.kind} recomputes its rows"


@dataclass(frozen=True)
class Whole:
    """Inherently global (ranks, shares, scores): recomputed whole, from small upstream marts."""

    label = "whole"

    def describe(self) -> str:
        return "recomputed whole on every refresh that changed anything (reads small marts)"


Refresh = ByDate | ByMonth | ByMember | Whole


@dataclass(frozen=True)
class Reconciles:
    """The mart's sums per `on` equal another mart's values at that grain, exactly.

    A cheap check (two marts, no pass over the fact) for a mart that splits another's
    rows finer: the hours of a day add up to the day.
    """

    mart: str
    on: tuple[str, ...]
    measures: tuple[str, ...]

    def describe(self) -> str:
        sums = ", ".join(f"`{m}`" for m in self.measures)
        keys = ", ".join(f"`{k}`" for k in self.on)
        return f"sums of {sums} per {keys} equal `{self.mart}`"


@dataclass(frozen=True)
class Mart:
    """A mart: grain, columns, needed canonical fields and SQL steps ending in `final`."""

    name: str
    description: str
    grain: tuple[str, ...]
    columns: tuple[Column, ...]
    steps: tuple[tuple[str, str], ...]
    refresh: Refresh
    requires: tuple[str, ...] = ()  # canonical fields beyond the always-present ones
    notes: tuple[str, ...] = ()  # rules worth stating in the docs (boundaries, ties)
    public: bool = True  # intermediate models are internal building blocks
    reconciles: Reconciles | None = None  # a data test against a coarser mart
    sources: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"mart {self.name}: duplicate column names")
        missing = [g for g in self.grain if g not in names]
        if missing:
            raise ValueError(f"mart {self.name}: grain columns {missing} are not declared")
        if not self.steps or self.steps[-1][0] != "final":
            raise ValueError(f"mart {self.name}: the last step must be named 'final'")
        found: list[str] = []
        for _, sql in self.steps:
            for _, placeholder, _, _ in string.Formatter().parse(sql):
                if placeholder and placeholder not in FRAGMENTS and placeholder not in found:
                    found.append(placeholder)
        object.__setattr__(self, "sources", tuple(found))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def upstream(self) -> tuple[str, ...]:
        """The other marts this one reads."""
        return tuple(s for s in self.sources if s not in BASE_TABLES)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def sql(self, tables: dict[str, str] | None = None) -> str:
        """The mart's query: its steps as CTEs, selecting the declared columns from `final`."""
        names = {
            **FRAGMENTS,
            **BASE_TABLES,
            **{s: s for s in self.upstream},
            **(tables or {}),
        }
        ctes = ",\n".join(
            f"{name} AS (\n{sql.strip().format_map(names)}\n)" for name, sql in self.steps
        )
        return f"WITH {ctes}\nSELECT {', '.join(self.column_names)} FROM final"

    def create_sql(self, table: str | None = None) -> str:
        cols = ", ".join(f"{c.name} {c.type}" for c in self.columns)
        return f"CREATE TABLE {table or self.name} ({cols})"

    def fingerprint(self) -> str:
        """Changes when the definition changes, so a stored mart is rebuilt after an upgrade."""
        text = self.create_sql() + "\n" + self.sql() + "\n" + repr(self.refresh)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
