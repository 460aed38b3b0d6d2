"""GET /api/v1/marts and /api/v1/marts/{name}: the marts' declarations and their rows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

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
    snapshot_headers,
)
from salespipe.api.errors import InvalidParameter, NotFound, responses
from salespipe.api.exports import MEDIA_TYPES, Format, table_chunks
from salespipe.api.mart_reader import (
    MEMBER_FILTERS,
    MartQuery,
    available_filters,
    existing_tables,
    parse_order_by,
    public_mart,
    read_mart,
)
from salespipe.api.models import MartList, MartPage
from salespipe.api.snapshot import Snapshot
from salespipe.api.state import Cursor
from salespipe.errors import UsageError
from salespipe.marts import MART_NAMES, MARTS
from salespipe.query.marts import mart_catalog

router = APIRouter(tags=["marts"])

# JSON and CSV pages up to this many rows are built whole and cached; larger ones stream.
CACHE_ROWS = 2000
PAGE_PARAMS = ("from", "to", *MEMBER_FILTERS, "order_by", "limit", "offset", "format")
MEMBER_DOCS = {
    "store": "A store_id.",
    "region": "Stores of this region (marts with region or store_id).",
    "category": "Products of this category (marts with category or product_id).",
    "product": "A product_id.",
    "salesperson": "A salesperson_id.",
}


def _catalog(con: Cursor) -> list[dict[str, Any]]:
    """`salespipe marts list --json`, plus columns, filters and whether it can be read."""
    tables = existing_tables(con)
    declared = {m.name: m for m in MARTS}
    out = []
    for entry in mart_catalog(con):
        mart = declared[entry["name"]]
        out.append(
            {
                **entry,
                "columns": [
                    {"name": c.name, "type": c.type, "description": c.description, "money": c.money}
                    for c in mart.columns
                ],
                "filters": available_filters(mart),
                "available": entry["status"] == "built" and mart.name in tables,
            }
        )
    return out


@router.get(
    "/api/v1/marts",
    summary="The marts, their columns, filters and refresh state",
    response_model=MartList,
    responses=responses(401, 403),
)
async def list_marts(
    request: Request, state: StateDep, _auth: Annotated[object, Depends(require_read)]
) -> Response:
    def build(con: Cursor, snapshot: Snapshot) -> CachedBody:
        return json_body({"marts": _catalog(con)}, snapshot)

    return await cached_response(request, state, ("marts",), build)


def _page_header(query: MartQuery, total: int, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "mart": query.mart.name,
        "snapshot": snapshot.id,
        "columns": [
            # types as they leave the warehouse: money rounded to cents
            {"name": c.name, "type": "DECIMAL(38,2)" if c.money else c.type, "money": c.money}
            for c in query.mart.columns
        ],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }


@router.get(
    "/api/v1/marts/{name}",
    summary="Rows of a mart, filtered, ordered and paged; JSON, CSV, Parquet or XLSX",
    response_model=MartPage,
    responses={
        **responses(400, 401, 403, 404),
        200: {
            "description": "A page of rows (JSON), or the file in the asked format.",
            "content": {m: {} for f, m in MEDIA_TYPES.items() if f != "json"},
        },
    },
    dependencies=[Depends(known_params(*PAGE_PARAMS))],
)
async def mart_rows(
    request: Request,
    state: StateDep,
    _auth: Annotated[object, Depends(require_read)],
    name: Annotated[str, Path(description="Mart name: " + ", ".join(MART_NAMES))],
    date_from: Annotated[
        str | None,
        Query(
            alias="from",
            json_schema_extra=DATE_SCHEMA,
            description="First day (YYYY-MM-DD); months overlap.",
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(alias="to", json_schema_extra=DATE_SCHEMA, description="Last day (YYYY-MM-DD)."),
    ] = None,
    store: Annotated[
        str | None, Query(max_length=TEXT_MAX, description=MEMBER_DOCS["store"])
    ] = None,
    region: Annotated[
        str | None, Query(max_length=TEXT_MAX, description=MEMBER_DOCS["region"])
    ] = None,
    category: Annotated[
        str | None, Query(max_length=TEXT_MAX, description=MEMBER_DOCS["category"])
    ] = None,
    product: Annotated[
        str | None, Query(max_length=TEXT_MAX, description=MEMBER_DOCS["product"])
    ] = None,
    salesperson: Annotated[
        str | None, Query(max_length=TEXT_MAX, description=MEMBER_DOCS["salesperson"])
    ] = None,
    order_by: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Comma-separated columns of the mart, `-` prefix for descending; "
            "the grain completes the order.",
            examples=["-net_sales,sale_date"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10000, description="Rows per page.")] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip.")] = 0,
    format: Annotated[Format, Query(description="json, csv, parquet or xlsx.")] = "json",
) -> Response:
    """One page of a mart. Filters apply where the mart has the column (region and category
    also through store_id and product_id); unknown columns and filters are a 400."""
    mart = public_mart(name)
    if mart is None:
        raise NotFound(
            f"no mart named '{name}'", field="name", hint="marts: " + ", ".join(MART_NAMES)
        )
    start, end = parse_period(date_from, date_to)
    members = tuple(
        (param, value)
        for param, value in (
            ("store", store),
            ("region", region),
            ("category", category),
            ("product", product),
            ("salesperson", salesperson),
        )
        if value  # an empty value filters nothing, as on /api/v1/kpis
    )
    try:
        query = MartQuery(
            mart=mart,
            date_from=start,
            date_to=end,
            members=members,
            order_by=parse_order_by(mart, order_by),
            limit=limit,
            offset=offset,
        )
        query.where()  # a filter the mart cannot take is a 400 before any query runs
    except UsageError as exc:
        raise InvalidParameter(exc.message, field=exc.field, hint=exc.hint) from None
    fmt: Format = format
    media_type = MEDIA_TYPES[fmt]
    disposition = (
        {} if fmt == "json" else {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )

    def fetch(con: Cursor) -> tuple[Any, int]:
        if mart.name not in existing_tables(con):
            raise NotFound(
                f"mart {mart.name} is not built",
                field="name",
                hint="run `salespipe marts refresh`; GET /api/v1/marts shows each mart's note",
            )
        page = read_mart(con, query)
        state.engine.check_table(con, mart.name)  # a rebuild since the snapshot: read again
        return page

    if limit <= CACHE_ROWS or fmt in ("parquet", "xlsx"):  # files are built whole anyway

        def build(con: Cursor, snapshot: Snapshot) -> CachedBody:
            table, total = fetch(con)
            header = _page_header(query, total, snapshot)
            body = b"".join(table_chunks(fmt, table, header, mart.name))
            return CachedBody(body, media_type, snapshot.id, disposition)

        key = ("mart", name, start, end, members, query.order_by, limit, offset, fmt)
        return await cached_response(request, state, key, build)

    def read_page() -> tuple[Any, int, Snapshot]:
        def work(con: Cursor, snapshot: Snapshot) -> tuple[Any, int, Snapshot]:
            table, total = fetch(con)
            return table, total, snapshot

        return state.read_with(work)

    table, total, snapshot = await run_in_threadpool(read_page)
    header = _page_header(query, total, snapshot)
    return StreamingResponse(
        table_chunks(fmt, table, header, mart.name),
        media_type=media_type,
        headers={**snapshot_headers(snapshot.id), **disposition},
    )
