"""The declared settings of salespipe.yaml: one place for name, type, default and help.

Validation (with the YAML line of every error), the starter config and the config
reference page (docs/config.md) are all derived from these models.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from salespipe.contract.canonical import CANONICAL_FIELDS

Format = Literal["csv", "tsv", "parquet", "jsonl", "xlsx"]
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


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
    check: str = Field(description="SQL boolean over canonical fields; false means the row is quarantined (NULL passes, as in SQL CHECK).")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError("rule names use letters, digits, '_' and '-'")
        return value


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


class MonitorSettings(Strict):
    holidays: list[str] = Field(default_factory=list, description="Country holiday calendars.")


Severity = Literal["info", "warning", "error", "critical"]


class SlackAlert(Strict):
    webhook_url: str = Field(description="Slack incoming webhook URL (use env:NAME).")
    min_severity: Severity = Field("warning", description="Least severity sent.")


class WebhookAlert(Strict):
    url: str = Field(description="URL receiving a JSON POST.")
    min_severity: Severity = Field("warning", description="Least severity sent.")


class EmailAlert(Strict):
    smtp_host: str = Field(description="SMTP server.")
    port: int = Field(587, description="SMTP port.")
    starttls: bool = Field(True, description="Use STARTTLS.")
    from_: str = Field(alias="from", description="Sender address.")
    to: list[str] = Field(description="Recipients.")
    username: str | None = Field(None, description="SMTP user (use env:NAME).")
    password: str | None = Field(None, description="SMTP password (use env:NAME).")
    min_severity: Severity = Field("error", description="Least severity sent.")


class Alerts(Strict):
    slack: SlackAlert | None = Field(None, description="Slack alerts.")
    webhook: WebhookAlert | None = Field(None, description="Generic JSON webhook.")
    email: EmailAlert | None = Field(None, description="Email alerts.")


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
