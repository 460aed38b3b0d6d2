"""The declared settings of salespipe.yaml: one place for name, type, default and help.

Validation (with the YAML line of every error), the starter config and the config
reference page (docs/config.md) are all derived from these models.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails

from salespipe.contract.canonical import CANONICAL_FIELDS
from salespipe.contract.safety import UnsafeExpressionError, check_expression

Format = Literal["csv", "tsv", "parquet", "jsonl", "xlsx"]
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _check_sql(value: str) -> str:
    """An expression or rule stays inside its row (docs/contracts.md, 'What expressions may use')."""
    try:
        check_expression(value)
    except UnsafeExpressionError as exc:
        raise ValueError(f"{exc.message}; {exc.hint}") from None
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone '{value}'; use an IANA name such as UTC or Europe/Paris"
        ) from exc
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadOptions(Strict):
    """How a text file is read; every key is optional."""

    delimiter: str | None = Field(None, description="Field separator; default ',' (tab for tsv).")
    quote: str | None = Field(None, description="Quote character; default '\"'.")
    escape: str | None = Field(
        None, description="Escape character inside quotes; default the quote."
    )
    encoding: str = Field("utf-8", description="utf-8 (a BOM is skipped), latin-1 or utf-16.")
    decimal: str = Field(".", description="Decimal separator of numbers: '.' or ','.")
    thousands: str | None = Field(
        None, description="Thousands separator to strip from numbers, e.g. ' ' or '.'."
    )
    header: bool = Field(True, description="First line names the columns.")
    skip: int = Field(0, ge=0, description="Lines to skip before the header.")
    null_values: list[str] = Field(
        default_factory=list, description="Extra strings read as missing (e.g. 'NA', '-')."
    )
    compression: Literal["auto", "none", "gzip"] = Field(
        "auto", description="Compression; 'auto' detects .gz by extension."
    )
    sheet: str | None = Field(None, description="Excel sheet to read; default the first.")
    explode: str | None = Field(
        None,
        description="JSON lines only: a key holding a list (e.g. an order's `items`); each "
        "element becomes a row with the line's other keys, its own keys as `items.sku`, "
        "and its 1-based position as `items.#`. A line without a non-empty list there is "
        "quarantined as malformed.",
    )

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"must be one character, not {value!r}")
        return value

    @field_validator("quote", "escape")
    @classmethod
    def _at_most_one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 1:
            raise ValueError(f"must be one character ('' for none), not {value!r}")
        return value

    @field_validator("decimal")
    @classmethod
    def _decimal(cls, value: str) -> str:
        if value not in (".", ","):
            raise ValueError("decimal must be '.' or ','")
        return value


class ExprColumn(Strict):
    expr: str = Field(description="SQL expression (DuckDB dialect) over raw columns.")


class ValueColumn(Strict):
    value: str | int | float | bool | None = Field(description="A constant for every row.")


ColumnSpec = Annotated[str | ExprColumn | ValueColumn, Field(union_mode="left_to_right")]


class Lookup(Strict):
    file: Path = Field(
        description="Reference file (csv/tsv/parquet/jsonl/xlsx), relative to the config."
    )
    on: str | list[str] | dict[str, str] = Field(
        description="Join column(s): a name present on both sides, a list of them, or {left: right}."
    )
    prefix: str = Field("", description="Prefix added to the reference file's other columns.")
    format: Format | None = Field(None, description="Format of the file; default by extension.")
    options: ReadOptions = Field(default_factory=ReadOptions, description="Read options.")


class Rule(Strict):
    name: str = Field(description="Rule name; rows failing it are quarantined as rule:<name>.")
    check: str = Field(
        description="SQL boolean over canonical fields; false means the row is quarantined (NULL passes, as in SQL CHECK)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError("rule names use letters, digits, '_' and '-'")
        return value

    @field_validator("check")
    @classmethod
    def _check(cls, value: str) -> str:
        return _check_sql(value)


class Source(Strict):
    name: str = Field(description="Unique name of the source, used by `run --source`.")
    landing: str = Field(description="Folder (relative to the config) or s3://bucket/prefix.")
    pattern: str | None = Field(None, description="Glob of the files to load; default by format.")
    format: Format | None = Field(None, description="File format; default by extension.")
    name_pattern: str | None = Field(
        None,
        description="Regular expression every file name must match (e.g. 'sales_\\d{8}\\.csv'); "
        "other files are rejected to failed/.",
    )
    options: ReadOptions = Field(default_factory=ReadOptions, description="Read options.")
    columns: dict[str, ColumnSpec] = Field(
        default_factory=dict,
        description="Canonical field -> raw column name, {expr: SQL} or {value: constant}.",
    )
    formats: dict[str, str | list[str]] = Field(
        default_factory=dict, description="strptime format(s) per timestamp field."
    )
    key: list[str] | None = Field(
        None, description="Fields that identify a row; default transaction_id+line_no, else all."
    )
    lookups: list[Lookup] = Field(
        default_factory=list, description="Reference files joined in order."
    )
    rules: list[Rule] = Field(default_factory=list, description="Extra row rules.")
    archive: str | None = Field(None, description="Folder that loaded files move to.")
    failed: str | None = Field(
        None,
        description="Folder that rejected files move to; default 'failed/' when archive is set.",
    )
    timezone: str | None = Field(None, description="Time zone of this source's local times.")
    store_timezones: dict[str, str] = Field(
        default_factory=dict, description="Per-store time zone, store_id -> IANA name."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError("source names use letters, digits, '_' and '-'")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)

    @field_validator("name_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("store_timezones")
    @classmethod
    def _store_tz(cls, value: dict[str, str]) -> dict[str, str]:
        for tz in value.values():
            _check_timezone(tz)
        return value

    @field_validator("columns", "formats")
    @classmethod
    def _fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if name not in CANONICAL_FIELDS:
                raise ValueError(
                    f"'{name}' is not a canonical field; use one of: " + ", ".join(CANONICAL_FIELDS)
                )
        return value

    @field_validator("columns")
    @classmethod
    def _expressions(cls, value: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        # Checked here rather than on ExprColumn: inside the column union, a failing member
        # is reported beside the errors of the other members, which would bury it.
        errors: list[InitErrorDetails] = []
        for name, spec in value.items():
            if isinstance(spec, ExprColumn):
                try:
                    _check_sql(spec.expr)
                except ValueError as exc:
                    errors.append(
                        {
                            "type": "value_error",
                            "loc": (name, "expr"),
                            "input": spec.expr,
                            "ctx": {"error": exc},
                        }
                    )
        if errors:
            raise ValidationError.from_exception_data("Source", errors)
        return value

    @field_validator("key")
    @classmethod
    def _key(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for name in value:
                if name not in CANONICAL_FIELDS:
                    raise ValueError(f"key field '{name}' is not a canonical field")
            if not value:
                raise ValueError("key needs at least one field")
        return value

    @model_validator(mode="after")
    def _explode_jsonl(self) -> Source:
        if self.options.explode and self.format not in (None, "jsonl"):
            raise ValueError(
                f"options.explode works on JSON lines only, not format {self.format}; "
                "remove it or set format: jsonl"
            )
        return self


class S3Settings(Strict):
    endpoint_url: str | None = Field(
        None, description="S3 endpoint (MinIO, R2, moto); default AWS."
    )
    region: str | None = Field(None, description="Region name.")
    access_key_id: str | None = Field(None, description="Access key (use env:NAME).")
    secret_access_key: str | None = Field(None, description="Secret key (use env:NAME).")


class KafkaTrigger(Strict):
    bootstrap_servers: str = Field(description="Kafka bootstrap servers, host:port[,host:port].")
    topic: str = Field(description="Topic of object-created events or messages naming a file.")
    group_id: str = Field("salespipe", description="Consumer group.")
    dead_letter_topic: str | None = Field(None, description="Where poison messages go.")


class Triggers(Strict):
    kafka: KafkaTrigger | None = Field(None, description="Kafka trigger.")


class Schedule(Strict):
    cron: str = Field(description="Cron expression (5 fields).")
    timezone: str = Field("UTC", description="Time zone of the cron expression.")
    job: Literal["run", "refresh", "monitor"] = Field("run", description="What to run.")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)


Severity = Literal["info", "warning", "error", "critical"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '2h', '1d', '1w' or combinations such as '1h30m'."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION_RE.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(
            f"'{text}' is not a duration; use a number and a unit: 90s, 15m, 2h, 1d, 1w or 1h30m"
        )
    return timedelta(seconds=sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


class SeasonalCheck(Strict):
    """A seasonal check (daily lines or net sales): a day is flagged only when its deviation
    from the expected value passes all three thresholds."""

    enabled: bool = Field(True, description="Run this check.")
    relative: float = Field(
        0.5,
        gt=0,
        description="Least |observed - expected| / expected (0.5: half the expected value).",
    )
    absolute: Decimal = Field(
        Decimal("10"),
        ge=0,
        description="Least |observed - expected| in the metric's unit (lines, or the reporting "
        "currency for net_sales).",
    )
    z: float = Field(
        4.0,
        gt=0,
        description="Least robust z-score: the deviation over the subject's usual noise "
        "(1.4826 x the median absolute deviation of its recent residuals).",
    )
    severity: Severity = Field(
        "warning", description="Severity of a finding (a silent store is always an error)."
    )


class DayEndCheck(Strict):
    """Partial days: a source's trade ends far earlier than on the same weekday (the end is
    the time by which 90% of the day's lines were sold; the span runs from 10% to 90%)."""

    enabled: bool = Field(True, description="Run this check.")
    early_share: float = Field(
        0.35,
        gt=0,
        description="Least shift of the end, as a share of the weekday's usual span.",
    )
    holiday_early_share: float = Field(
        0.5, gt=0, description="The same on holidays, when shops may close early."
    )
    z: float = Field(4.0, gt=0, description="Least robust z-score of the early end.")
    severity: Severity = Field("error", description="Severity of a finding.")


class QuarantineRateCheck(Strict):
    """Share of a source's rows quarantined in its latest run."""

    enabled: bool = Field(True, description="Run this check.")
    warning: float = Field(0.05, ge=0, le=1, description="Rate from which a warning is raised.")
    error: float = Field(0.2, ge=0, le=1, description="Rate from which an error is raised.")
    min_rows: int = Field(100, ge=1, description="Runs with fewer rows in are not judged.")


class DriftCheck(Strict):
    """Schema drift: a file's columns against the source's established schema."""

    enabled: bool = Field(True, description="Run this check.")
    history_files: int = Field(
        5,
        ge=1,
        description="Earlier files of the source that define its schema: a column is "
        "established when at least half of them had it.",
    )
    retype_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of a file's rows failing bad_number or bad_timestamp (when earlier "
        "files had almost none) that counts as a column changing its type or format.",
    )


class RuntimeCheck(Strict):
    """Run duration regression against earlier runs, per input row."""

    enabled: bool = Field(True, description="Run this check.")
    factor: float = Field(
        2.0, gt=1, description="A run slower than factor x its expected duration is flagged."
    )
    min_seconds: float = Field(
        30.0, ge=0, description="... and only when it is at least this many seconds slower."
    )
    history_runs: int = Field(20, ge=1, description="Earlier runs the expectation comes from.")
    min_history: int = Field(5, ge=1, description="Earlier runs needed before judging.")
    severity: Severity = Field("warning", description="Severity of a finding.")


class Freshness(Strict):
    """When a source's data must be in: by `expected_by` local time, the business day
    `lag_days` before today is loaded."""

    source: str = Field(description="Source name.")
    expected_by: str = Field("09:00", description="Local time of day, HH:MM.")
    timezone: str | None = Field(
        None, description="Time zone of expected_by; default the source's."
    )
    lag_days: int = Field(
        1, ge=0, description="Days between a business day and the day its data is due."
    )
    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS),
        description="Business days that have data (e.g. no Sunday file).",
    )
    skip_holidays: bool = Field(True, description="No data is expected for holidays.")
    severity: Severity = Field("error", description="Severity of a finding.")

    @field_validator("expected_by")
    @classmethod
    def _time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"'{value}' is not a time of day; use HH:MM, e.g. 09:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)


class MonitorSettings(Strict):
    """Checks after every run (see docs/monitoring.md)."""

    enabled: bool = Field(
        True, description="Run the monitor after every run; `salespipe monitor run` always can."
    )
    holidays: list[str] = Field(
        default_factory=list,
        description="Country holiday calendars (ISO codes of the `holidays` package, e.g. US, FR).",
    )
    holiday_categories: list[str] = Field(
        default_factory=lambda: ["public"],
        description="Categories of those calendars, e.g. public, unofficial (Easter Sunday, "
        "Christmas Eve in the US).",
    )
    special_days: list[date] = Field(
        default_factory=list,
        description="More days treated as holidays (sales events, local closures), YYYY-MM-DD.",
    )
    holiday_window: int = Field(
        1,
        ge=0,
        description="Days after each holiday that are also special (Black Friday, Boxing Day).",
    )
    baseline_weeks: int = Field(
        12,
        ge=1,
        description="Trailing weeks of the same weekday that the baseline is the median of.",
    )
    min_history: int = Field(
        4, ge=1, description="Same-weekday days needed in those weeks before a subject is judged."
    )
    level_days: int = Field(
        7, ge=1, description="Recent days that measure a source's current level (trend)."
    )
    spread_days: int = Field(
        28, ge=7, description="Recent residuals that measure a subject's usual noise."
    )
    min_peers: int = Field(
        3,
        ge=1,
        description="Other stores of the source needed to judge a store against its peers; "
        "with fewer, a store is judged like a source.",
    )
    adapt_after_days: int = Field(
        14,
        ge=1,
        description="A change lasting this many days becomes the new normal: its days return "
        "to the baseline.",
    )
    recheck_days: int = Field(
        7, ge=1, description="Latest days of each source judged again by every run."
    )
    volume: SeasonalCheck = Field(
        default_factory=SeasonalCheck, description="Daily lines per source and per store."
    )
    net_sales: SeasonalCheck = Field(
        default_factory=lambda: SeasonalCheck(absolute=Decimal("100")),
        description="Daily net sales per source and per store (absolute in the reporting "
        "currency, default 100).",
    )
    day_end: DayEndCheck = Field(default_factory=DayEndCheck, description="Partial days.")
    quarantine_rate: QuarantineRateCheck = Field(
        default_factory=QuarantineRateCheck, description="Quarantined share of rows."
    )
    drift: DriftCheck = Field(default_factory=DriftCheck, description="Schema drift.")
    runtime: RuntimeCheck = Field(default_factory=RuntimeCheck, description="Run duration.")
    freshness: list[Freshness] = Field(
        default_factory=list, description="When each source's data must be in."
    )

    @field_validator("holidays")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        if not value:
            return value
        try:
            import holidays
        except ImportError:
            raise ValueError(
                'country calendars need the holidays package: pip install "salespipe[monitor]"'
            ) from None
        known = holidays.list_supported_countries()
        for code in value:
            if code not in known:
                raise ValueError(
                    f"'{code}' is not a country calendar of the holidays package; "
                    "use an ISO code such as US, GB, FR or DE"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MonitorSettings:
        if self.quarantine_rate.error < self.quarantine_rate.warning:
            raise ValueError("quarantine_rate.error must be at least quarantine_rate.warning")
        return self


class SlackAlert(Strict):
    webhook_url: str = Field(description="Slack incoming webhook URL (use env:NAME).")
    min_severity: Severity = Field("warning", description="Least severity sent.")


class WebhookAlert(Strict):
    url: str = Field(description="URL receiving a JSON POST.")
    min_severity: Severity = Field("warning", description="Least severity sent.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers, e.g. Authorization: env:HOOK_TOKEN."
    )


class EmailAlert(Strict):
    smtp_host: str = Field(description="SMTP server.")
    port: int = Field(587, description="SMTP port.")
    starttls: bool = Field(True, description="Use STARTTLS.")
    from_: str = Field(alias="from", description="Sender address.")
    to: list[str] = Field(description="Recipients.")
    username: str | None = Field(None, description="SMTP user (use env:NAME).")
    password: str | None = Field(None, description="SMTP password (use env:NAME).")
    min_severity: Severity = Field("error", description="Least severity sent.")
    subject_prefix: str = Field("[salespipe]", description="Start of every mail subject.")


class Alerts(Strict):
    """Where findings go: one digest per run and channel (see docs/monitoring.md)."""

    slack: SlackAlert | None = Field(None, description="Slack alerts.")
    webhook: WebhookAlert | None = Field(None, description="Generic JSON webhook.")
    email: EmailAlert | None = Field(None, description="Email alerts.")
    cooldown: str = Field(
        "12h",
        description="An open finding is not sent again within this time (90s, 15m, 2h, 1d).",
    )
    recoveries: bool = Field(True, description="Send a message when a sent finding clears.")
    retries: int = Field(3, ge=0, description="Retries of a failed delivery.")
    backoff_seconds: float = Field(
        1.0, ge=0, description="Wait before the first retry; doubled before each next one."
    )
    timeout_seconds: float = Field(10.0, gt=0, description="Network timeout of one attempt.")

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: str) -> str:
        return _check_duration(value)


class ApiKey(Strict):
    name: str = Field(description="Who holds the key.")
    key: str = Field(description="The key (use env:NAME) or 'sha256:<hex>' of it.")
    scope: Literal["read", "admin"] = Field("read", description="read or admin.")


class ApiSettings(Strict):
    keys: list[ApiKey] = Field(default_factory=list, description="API keys.")


class Config(Strict):
    """salespipe.yaml."""

    warehouse: str = Field(
        "duckdb:///warehouse.duckdb",
        description="duckdb:///path (relative to the config) or postgresql://user@host:port/db.",
    )
    timezone: str = Field("UTC", description="Default time zone of local sale times.")
    currency: str = Field("USD", description="Reporting currency.")
    rates: Path | None = Field(
        None, description="FX rates file (columns date, currency, rate) to the reporting currency."
    )
    sources: list[Source] = Field(default_factory=list, description="Where sales exports land.")
    s3: S3Settings | None = Field(None, description="S3 connection.")
    triggers: Triggers | None = Field(None, description="Event triggers.")
    schedules: list[Schedule] = Field(default_factory=list, description="Cron schedules.")
    monitor: MonitorSettings | None = Field(None, description="Monitoring.")
    alerts: Alerts | None = Field(None, description="Alert channels.")
    api: ApiSettings | None = Field(None, description="API settings.")
    # Set by the loader, never by the file: the folder that relative paths start from.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _unique_sources(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are named '{source.name}'; names must be unique")
            seen.add(source.name)
        return self

    @model_validator(mode="after")
    def _monitored_sources(self) -> Config:
        names = {s.name for s in self.sources}
        for item in self.monitor.freshness if self.monitor else []:
            if item.source not in names:
                raise ValueError(
                    f"monitor.freshness names source '{item.source}', which is not configured"
                )
        return self

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        from salespipe.errors import UsageError

        raise UsageError(f"no source named '{name}'", hint=f"configured sources: {known}")

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def source_timezone(self, source: Source) -> str:
        return source.timezone or self.timezone
