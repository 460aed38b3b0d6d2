"""GET /api/v1/kpis: the keys of `salespipe kpi --json`, plus comparison periods."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from salespipe.api.cache import CachedBody
from salespipe.api.deps import (
    DATE_SCHEMA,
    TEXT_MAX,
    StateDep,
    cached_response,
    json_body,
    known_params,
    parse_period,
    require_read,
)
from salespipe.api.errors import InvalidParameter, responses
from salespipe.api.models import KpisWithComparisons
from salespipe.api.snapshot import Snapshot
from salespipe.api.state import Cursor
from salespipe.errors import UsageError
from salespipe.query.compare import COMPARISONS, compare_periods, comparison_output
from salespipe.query.kpis import KpiFilter, check_members, compute_kpis, to_output

router = APIRouter(tags=["kpis"])

FILTER_PARAMS = ("from", "to", "store", "region", "category", "compare")


def parse_compare(values: list[str]) -> tuple[str, ...]:
    """`compare=previous,yoy` or repeated; `none` for no comparison; default all."""
    if not values:
        return COMPARISONS
    modes: list[str] = []
    for value in values:
        for mode in value.split(","):
            mode = mode.strip()
            if mode in ("none", ""):
                continue
            if mode == "all":
                modes.extend(m for m in COMPARISONS if m not in modes)
                continue
            if mode not in COMPARISONS:
                raise InvalidParameter(
                    f"compare: unknown comparison '{mode}'",
                    field="compare",
                    hint="use " + ", ".join(COMPARISONS) + ", all or none",
                )
            if mode not in modes:
                modes.append(mode)
    return tuple(modes)


def kpis_with_comparisons(con: Cursor, flt: KpiFilter, modes: tuple[str, ...]) -> dict[str, Any]:
    """`kpi --json` keys plus `comparison`, exactly as `kpi --json --compare` prints them."""
    if not modes:
        return {**to_output(compute_kpis(con, flt)), "comparison": {}}
    compared = compare_periods(con, flt, modes)
    blocks = compared.pop("comparison")
    return {**to_output(compared), "comparison": comparison_output(blocks)}


@router.get(
    "/api/v1/kpis",
    summary="KPIs for a period and filters",
    response_model=KpisWithComparisons,
    responses=responses(400, 401, 403),
    dependencies=[Depends(known_params(*FILTER_PARAMS))],
)
async def get_kpis(
    request: Request,
    state: StateDep,
    _auth: Annotated[object, Depends(require_read)],
    date_from: Annotated[
        str | None,
        Query(
            alias="from",
            json_schema_extra=DATE_SCHEMA,
            description="First business day, YYYY-MM-DD.",
            examples=["2025-03-01"],
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(
            alias="to",
            json_schema_extra=DATE_SCHEMA,
            description="Last business day, YYYY-MM-DD.",
            examples=["2025-03-31"],
        ),
    ] = None,
    store: Annotated[str | None, Query(max_length=TEXT_MAX, description="A store_id.")] = None,
    region: Annotated[
        str | None, Query(max_length=TEXT_MAX, description="Stores of this region.")
    ] = None,
    category: Annotated[
        str | None, Query(max_length=TEXT_MAX, description="Products of this category.")
    ] = None,
    compare: Annotated[
        list[str] | None,
        Query(
            description="Comparisons: previous, mtd, yoy (comma-separated or repeated), all "
            "or none; default all.",
            examples=["previous,yoy"],
        ),
    ] = None,
) -> Response:
    """Net sales, gross sales, returns, orders, units, AOV, active stores, cost, profit and
    margin, exactly as `salespipe kpi --json` prints them, and `comparison` as
    `kpi --json --compare` prints it: previous period, month to date, year over year."""
    start, end = parse_period(date_from, date_to)
    flt = KpiFilter(start, end, store or None, region or None, category or None)
    modes = parse_compare(compare or [])

    def build(con: Cursor, snapshot: Snapshot) -> CachedBody:
        try:
            check_members(con, flt)
        except UsageError as exc:
            raise InvalidParameter(exc.message, field=exc.field, hint=exc.hint) from None
        return json_body(kpis_with_comparisons(con, flt, modes), snapshot)

    return await cached_response(request, state, ("kpis", flt, modes), build)
