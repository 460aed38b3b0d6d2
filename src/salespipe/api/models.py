"""Response models: they document the API (OpenAPI at /docs) with an example each.

Handlers send pre-serialized bodies (cached by snapshot), so these models describe the
JSON rather than build it; tests check the bodies against the published schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = float  # rounded to cents; exact decimal in the warehouse


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(populate_by_name=True, json_schema_extra={"examples": [example]})


KPI_EXAMPLE: dict[str, Any] = {
    "net_sales": 125034.5,
    "gross_sales": 128900.0,
    "returns_value": 3865.5,
    "orders": 4210,
    "units_sold": 9876,
    "net_units": 9701,
    "average_order_value": 30.62,
    "active_stores": 8,
    "cost": 70120.25,
    "profit": 54914.25,
    "margin_pct": 43.92,
    "lines": 18034,
    "from": "2025-03-01",
    "to": "2025-03-31",
}


class Kpis(BaseModel):
    """The keys of `salespipe kpi --json`."""

    model_config = _example(KPI_EXAMPLE)

    net_sales: Money = Field(description="Sum of line revenue, returns included.")
    gross_sales: Money = Field(description="Line revenue of lines with quantity > 0.")
    returns_value: Money = Field(description="Minus the line revenue of returns.")
    orders: int | None = Field(description="Distinct transactions with a sale; null without ids.")
    units_sold: float = Field(description="Sum of quantity > 0.")
    net_units: float = Field(description="Sum of quantity.")
    average_order_value: Money | None = Field(description="gross_sales / orders.")
    active_stores: int = Field(description="Distinct stores with a sale.")
    cost: Money | None = Field(description="Sum of quantity * unit_cost; null if any is unknown.")
    profit: Money | None = Field(description="net_sales - cost.")
    margin_pct: float | None = Field(description="100 * profit / net_sales.")
    lines: int = Field(description="Sales lines in the period.")
    from_: str | None = Field(alias="from", description="First business day (YYYY-MM-DD).")
    to: str | None = Field(description="Last business day (YYYY-MM-DD).")


class Comparison(BaseModel):
    """One comparison: the KPIs of both periods, the change and the change in percent."""

    current: Kpis
    previous: Kpis
    change: dict[str, float | None] = Field(description="current - previous per KPI.")
    change_pct: dict[str, float | None] = Field(
        description="100 * change / |previous|; null when previous is null or 0."
    )


class KpisWithComparisons(Kpis):
    model_config = _example(
        {
            **KPI_EXAMPLE,
            "comparison": {
                "previous": {
                    "current": KPI_EXAMPLE,
                    "previous": {**KPI_EXAMPLE, "from": "2025-01-29", "to": "2025-02-28"},
                    "change": {"net_sales": 5034.5},
                    "change_pct": {"net_sales": 4.2},
                }
            },
        }
    )

    comparison: dict[str, Comparison | None] = Field(
        description="One block per mode of `compare`: previous (the period of equal length "
        "before), mtd (month to date vs the same days of the previous month), yoy (a year "
        "earlier); null when the period has no sales."
    )


class MartColumn(BaseModel):
    name: str
    type: str
    description: str | None = None
    money: bool = False


class MartInfo(BaseModel):
    """`salespipe marts list --json` for one mart, with its columns and filters."""

    model_config = _example(
        {
            "name": "sales_daily",
            "description": "Sales per business day and store.",
            "grain": ["sale_date", "store_id"],
            "requires": [],
            "refresh": "incremental by `sale_date`: a changed day recomputes that day",
            "status": "built",
            "note": None,
            "rows": 720,
            "last_mode": "incremental",
            "last_seconds": 0.0123,
            "refreshed_at": "2025-04-01T02:00:03+00:00",
            "columns": [{"name": "sale_date", "type": "DATE", "description": "Business day."}],
            "filters": ["from", "to", "store", "region"],
            "available": True,
        }
    )

    name: str
    description: str
    grain: list[str]
    requires: list[str] = Field(description="Canonical fields the mart needs.")
    refresh: str = Field(description="How the mart is refreshed.")
    status: str = Field(description="built, skipped (see note) or not built.")
    note: str | None
    rows: int | None
    last_mode: str | None
    last_seconds: float | None
    refreshed_at: str | None
    columns: list[MartColumn]
    filters: list[str] = Field(description="Filter parameters this mart accepts.")
    available: bool = Field(description="The mart is built and can be read.")


class MartList(BaseModel):
    marts: list[MartInfo]


class MartPage(BaseModel):
    model_config = _example(
        {
            "mart": "sales_daily",
            "snapshot": "42.1743465600000000",
            "columns": [
                {"name": "sale_date", "type": "DATE", "money": False},
                {"name": "net_sales", "type": "DECIMAL(38,2)", "money": True},
            ],
            "total": 720,
            "limit": 2,
            "offset": 0,
            "rows": [
                {"sale_date": "2025-01-01", "store_id": "S01", "net_sales": 1520.4},
                {"sale_date": "2025-01-01", "store_id": "S02", "net_sales": 980.0},
            ],
        }
    )

    mart: str
    snapshot: str = Field(description="Snapshot id of the data (also the ETag).")
    columns: list[MartColumn]
    total: int = Field(description="Rows matching the filters, all pages.")
    limit: int
    offset: int
    rows: list[dict[str, Any]]


class Page(BaseModel):
    limit: int
    offset: int
    has_more: bool = Field(description="More rows follow this page.")


class RunRow(BaseModel):
    run_id: str
    command: str | None
    status: str | None
    started_at: str | None
    finished_at: str | None
    files: int | None
    rows_in: int | None
    rows_loaded: int | None
    rows_updated: int | None
    rows_quarantined: int | None
    rows_duplicate: int | None
    seconds: float | None
    error: str | None


class RunJob(BaseModel):
    """A run submitted to this server; `result` is what `salespipe run --json` prints."""

    model_config = _example(
        {
            "job_id": "3f2a9c0d1b7e",
            "source": None,
            "state": "ok",
            "submitted_at": "2025-04-01T02:00:00+00:00",
            "finished_at": "2025-04-01T02:00:03+00:00",
            "exit_code": 0,
            "result": {"run_id": "20250401T020000Z-a1b2c3", "status": "ok", "files": []},
            "error": None,
        }
    )

    job_id: str
    source: str | None
    command: Literal["run", "replay"] = "run"
    state: Literal["running", "ok", "failed", "error"]
    submitted_at: str
    finished_at: str | None
    exit_code: int | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None


class RunList(Page):
    runs: list[RunRow]
    running_job: RunJob | None = Field(description="The run this server is doing now, if any.")


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"source": "pos"}]})

    source: str | None = Field(None, description="Load only this source; default all.")
    command: Literal["run", "replay"] = Field(
        "run",
        description="run: load the landed files (salespipe run); replay: load the quarantined "
        "rows that now pass the contract (salespipe quarantine replay).",
    )


class FileRow(BaseModel):
    file_id: int
    run_id: str | None
    source: str | None
    uri: str | None
    name: str | None
    content_hash: str | None
    size_bytes: int | None
    status: str | None
    rows_in: int | None
    rows_loaded: int | None
    rows_updated: int | None
    rows_quarantined: int | None
    rows_duplicate: int | None
    reasons: dict[str, int]
    unused_columns: list[str]
    error: str | None
    min_date: str | None
    max_date: str | None
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    reconciles: bool = Field(description="rows_in = loaded + updated + quarantined + duplicate.")


class FileList(Page):
    files: list[FileRow]


class QuarantineRow(BaseModel):
    file_id: int | None
    file: str | None
    source: str | None
    row: int | None
    line: int | None
    reasons: list[str]
    raw: dict[str, Any]
    state: str | None
    quarantined_at: str | None


class QuarantineList(Page):
    rows: list[QuarantineRow]


class Alert(BaseModel):
    """A monitor event, as `salespipe monitor list --json` prints it."""

    id: int
    kind: str = Field(
        description="volume, net_sales, drift, quarantine_rate, freshness, runtime, "
        "data_test or error."
    )
    severity: str
    subject: str = Field(description="The source or store the event is about.")
    day: str | None = Field(description="The business day the finding is about, if any.")
    observed: float | None
    expected: float | None
    message: str
    state: str = Field(description="open, acknowledged or resolved.")
    opened_at: str | None
    last_seen_at: str | None
    resolved_at: str | None
    snoozed_until: str | None


class AlertList(Page):
    alerts: list[Alert]
    available: bool = Field(description="False while the warehouse has no monitor_events table.")


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    snapshot: str
    run_in_progress: bool
    currency: str = Field(description="The reporting currency every amount is in (ISO 4217).")


class Status(BaseModel):
    """What `salespipe status --json` prints."""

    warehouse: str
    fact_rows: int
    first_date: str | None
    last_date: str | None
    quarantine_open: int
    runs: list[RunRow]
    files: list[FileRow]
