"""Data tests generated from the marts' declarations: keys, not-null, ranges, relationships,
and sums against a coarser mart where one is declared."""

from __future__ import annotations

from salespipe.marts.model import ByDate, Mart
from salespipe.quality.model import DataTest
from salespipe.warehouse.schema import DIMENSIONS


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def unique_test(mart: Mart) -> DataTest:
    keys = ", ".join(mart.grain)
    return DataTest(
        name=f"{mart.name}: unique ({keys})",
        kind="unique",
        target=mart.name,
        sql=f"SELECT {keys}, count(*) AS copies FROM {mart.name} GROUP BY {keys} HAVING count(*) > 1",
        description="one row per grain",
    )


def not_null_test(mart: Mart) -> DataTest | None:
    columns = [c.name for c in mart.columns if c.not_null]
    if not columns:
        return None
    which = ", ".join(f"CASE WHEN {c} IS NULL THEN {_sql_text(c)} END" for c in columns)
    return DataTest(
        name=f"{mart.name}: not null",
        kind="not_null",
        target=mart.name,
        sql=(
            f"SELECT {', '.join(mart.grain)}, concat_ws(', ', {which}) AS null_columns "
            f"FROM {mart.name} WHERE " + " OR ".join(f"{c} IS NULL" for c in columns)
        ),
        description="columns declared not null: " + ", ".join(columns),
    )


def accepted_test(mart: Mart) -> DataTest | None:
    """Accepted values and ranges, one test per mart listing the columns out of bounds."""
    checks: list[tuple[str, str]] = []
    for c in mart.columns:
        if c.accepted:
            allowed = ", ".join(_sql_text(v) for v in c.accepted)
            checks.append((c.name, f"{c.name} NOT IN ({allowed})"))
        if c.min_value is not None:
            checks.append((c.name, f"{c.name} < {c.min_value!r}"))
        if c.max_value is not None:
            checks.append((c.name, f"{c.name} > {c.max_value!r}"))
    if not checks:
        return None
    which = ", ".join(f"CASE WHEN {cond} THEN {_sql_text(name)} END" for name, cond in checks)
    bounds = sorted({name for name, _ in checks})
    return DataTest(
        name=f"{mart.name}: accepted values",
        kind="accepted",
        target=mart.name,
        sql=(
            f"SELECT {', '.join(mart.grain)}, concat_ws(', ', {which}) AS out_of_bounds "
            f"FROM {mart.name} WHERE " + " OR ".join(f"({cond})" for _, cond in checks)
        ),
        description="declared values and ranges of " + ", ".join(bounds),
    )


def relationship_tests(mart: Mart) -> list[DataTest]:
    tests: list[DataTest] = []
    for c in mart.columns:
        if not c.references:
            continue
        key = DIMENSIONS[c.references][0]
        tests.append(
            DataTest(
                name=f"{mart.name}: {c.name} -> {c.references}",
                kind="relationship",
                target=mart.name,
                sql=(
                    f"SELECT DISTINCT m.{c.name} FROM {mart.name} m WHERE m.{c.name} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {c.references} d WHERE d.{key} = m.{c.name})"
                ),
                description=f"every {c.name} is in {c.references}",
            )
        )
    return tests


def declared_reconcile_test(mart: Mart) -> DataTest | None:
    """The mart's sums per `on` against the coarser mart it declares (both refreshed together)."""
    spec = mart.reconciles
    if spec is None:
        return None
    on = ", ".join(spec.on)
    sums = ", ".join(f"sum({m}) AS {m}" for m in spec.measures)
    cols = ", ".join(f"m.{m} AS mart_{m}, o.{m} AS {spec.mart}_{m}" for m in spec.measures)
    keys = ", ".join(f"coalesce(m.{k}, o.{k}) AS {k}" for k in spec.on)
    joined = " AND ".join(f"o.{k} = m.{k}" for k in spec.on)
    differs = " OR ".join(f"coalesce(m.{m}, 0) <> coalesce(o.{m}, 0)" for m in spec.measures)
    pending = ""
    if isinstance(mart.refresh, ByDate) and mart.refresh.column in spec.on:
        # On a server engine a refresh reads the fact statement by statement, so a load
        # committing meanwhile may reach one mart and not the other until its own
        # refresh: its days (still in mart_dirty) are left out until then.
        day = f"coalesce(m.{mart.refresh.column}, o.{mart.refresh.column})"
        pending = (
            f" AND {day} NOT IN (SELECT CAST(key AS DATE) FROM mart_dirty WHERE kind = 'date')"
        )
    return DataTest(
        name=f"{mart.name}: totals = {spec.mart}",
        kind="reconcile",
        target=mart.name,
        sql=(
            f"SELECT {keys}, {cols} FROM (SELECT {on}, {sums} FROM {mart.name} GROUP BY {on}) m "
            f"FULL JOIN (SELECT {on}, {', '.join(spec.measures)} FROM {spec.mart}) o ON {joined} "
            f"WHERE ({differs}){pending}"
        ),
        description=spec.describe(),
    )


def mart_tests(mart: Mart) -> list[DataTest]:
    tests: list[DataTest | None] = [
        unique_test(mart),
        not_null_test(mart),
        accepted_test(mart),
        *relationship_tests(mart),
        declared_reconcile_test(mart),
    ]
    return [t for t in tests if t is not None]
