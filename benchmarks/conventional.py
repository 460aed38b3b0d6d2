"""The conventional pipeline salespipe is measured against, written as a competent engineer would.

pandas reads the CSV in 10K-row chunks as text, a pydantic v2 model validates each row
with the same rules as salespipe's contract, bad rows go to a quarantine list with reason
codes, duplicate keys are dropped, the derived columns are added, and SQLAlchemy 2.0
inserts the rows in 1K-row batches inside one transaction (DuckDB file through
duckdb-engine by default; any SQLAlchemy URL with `--url`).

    python benchmarks/conventional.py FILE --url duckdb:///out.duckdb [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

CHUNK_ROWS = 10_000
BATCH_ROWS = 1_000
SOLD_AT_FORMAT = "%Y-%m-%d %H:%M:%S"
KEY = ["transaction_id", "line_no"]
NUMBER_FIELDS = ("quantity", "unit_price", "discount", "unit_cost")


class SaleLine(BaseModel):
    """One canonical sales line; the rules mirror salespipe's contract (docs: DESIGN.md)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    transaction_id: str
    line_no: str
    sold_at: datetime
    store_id: str = "ALL"
    store_name: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    product_id: str
    product_name: str | None = None
    category: str | None = None
    subcategory: str | None = None
    brand: str | None = None
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal(0)
    unit_cost: Decimal | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    salesperson_id: str | None = None
    salesperson_name: str | None = None
    channel: str | None = None
    payment_method: str | None = None
    currency: str | None = None

    @model_validator(mode="before")
    @classmethod
    def drop_blanks(cls, data: Any) -> Any:
        # A blank cell is a missing value: required fields then fail, optional ones default.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if isinstance(v, str) and v.strip()}
        return data

    @field_validator("sold_at", mode="before")
    @classmethod
    def parse_sold_at(cls, value: Any) -> Any:
        if isinstance(value, str):
            return datetime.strptime(value.strip(), SOLD_AT_FORMAT)
        return value

    @field_validator("quantity")
    @classmethod
    def nonzero_quantity(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("zero_quantity")
        return value

    @field_validator("unit_price")
    @classmethod
    def nonnegative_price(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("negative_price")
        return value

    @field_validator("unit_cost")
    @classmethod
    def nonnegative_cost(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value < 0:
            raise ValueError("negative_cost")
        return value

    @model_validator(mode="after")
    def discount_within_amount(self) -> SaleLine:
        if self.discount < 0 or self.discount > abs(self.quantity * self.unit_price):
            raise ValueError("discount_exceeds_amount")
        return self


FIELD_NAMES = list(SaleLine.model_fields)
NOT_NULL = {"transaction_id", "line_no", "sold_at", "store_id", "product_id"} | {
    "quantity",
    "unit_price",
    "discount",
}


def reason_codes(error: ValidationError) -> list[str]:
    """Translate pydantic's errors into salespipe's reason codes."""
    codes: list[str] = []
    for err in error.errors(include_url=False, include_input=False):
        loc = str(err["loc"][0]) if err["loc"] else ""
        kind = err["type"]
        if kind == "missing":
            code = f"missing_value:{loc}"
        elif kind == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
            code = "bad_timestamp" if loc == "sold_at" else message
        elif loc == "sold_at":
            code = "bad_timestamp"
        elif loc in NUMBER_FIELDS:
            code = "bad_number"
        else:
            code = f"invalid:{loc}"
        if code not in codes:
            codes.append(code)
    return codes


@dataclass
class QuarantinedRow:
    line: int
    reasons: list[str]
    raw: dict[str, Any]


@dataclass
class LoadReport:
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("read", "validate", "dedup_derive", "insert"), 0.0)
    )
    quarantine: list[QuarantinedRow] = field(default_factory=list)

    def quarantine_row(self, line: int, reasons: list[str], raw: dict[str, Any]) -> None:
        self.quarantine.append(QuarantinedRow(line, reasons, raw))
        self.rows_quarantined += 1
        for code in reasons:
            self.reasons[code] = self.reasons.get(code, 0) + 1


def sales_table(metadata: sa.MetaData) -> sa.Table:
    money = sa.Numeric(18, 4)
    text = {name: sa.String() for name in FIELD_NAMES}
    typed: dict[str, sa.types.TypeEngine[Any]] = {
        **text,
        "sold_at": sa.DateTime(),
        "quantity": money,
        "unit_price": money,
        "discount": money,
        "unit_cost": money,
    }
    return sa.Table(
        "sales",
        metadata,
        *(sa.Column(name, typed[name], nullable=name not in NOT_NULL) for name in FIELD_NAMES),
        sa.Column("line_revenue", sa.Numeric(38, 10), nullable=False),
        sa.Column("sale_date", sa.Date(), nullable=False),
    )


def read_chunks(path: Path) -> Iterator[pd.DataFrame]:
    # Everything as text, blanks kept as "": validation, not the reader, decides what is bad.
    yield from pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS)


def validate_chunk(chunk: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    """Validate every row with the model; return the valid rows as typed columns."""
    valid: list[dict[str, Any]] = []
    lines: list[int] = []
    columns = list(chunk.columns)
    # The header is line 1, so data row i (0-based over the file) is on line i + 2.
    for index, values in zip(chunk.index, chunk.itertuples(index=False, name=None), strict=True):
        row = dict(zip(columns, values, strict=True))
        try:
            valid.append(SaleLine.model_validate(row).model_dump())
            lines.append(int(index) + 2)
        except ValidationError as exc:
            report.quarantine_row(int(index) + 2, reason_codes(exc), row)
    frame = pd.DataFrame(valid, columns=FIELD_NAMES)
    frame.index = pd.Index(lines, name="line")
    return frame


def add_derived_columns(frame: pd.DataFrame) -> pd.DataFrame:
    # Decimal columns stay object dtype so that money stays exact.
    frame["line_revenue"] = frame["quantity"] * frame["unit_price"] - frame["discount"]
    frame["sale_date"] = pd.to_datetime(frame["sold_at"]).dt.date
    return frame


def drop_duplicate_keys(
    frame: pd.DataFrame, seen: set[tuple[str, str]], report: LoadReport
) -> pd.DataFrame:
    """Keep the first row of each key, within the chunk and across chunks; quarantine the rest."""
    kept = frame.drop_duplicates(subset=KEY, keep="first")
    keys = list(zip(kept["transaction_id"], kept["line_no"], strict=True))
    kept = kept[pd.Series([key not in seen for key in keys], index=kept.index, dtype=bool)]
    seen.update(zip(kept["transaction_id"], kept["line_no"], strict=True))
    dropped = frame.loc[frame.index.difference(kept.index)]
    for line, row in zip(dropped.index, dropped.to_dict("records"), strict=True):
        report.quarantine_row(int(line), ["duplicate_key"], row)
    return kept


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # pandas stores missing text as NaN; the database wants NULL.
    records: list[dict[str, Any]] = (
        frame.astype(object).where(frame.notna(), None).to_dict("records")
    )
    return records


def load_csv(path: Path, url: str) -> LoadReport:
    report = LoadReport()
    started = time.perf_counter()
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table = sales_table(metadata)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    insert = sa.insert(table)
    seen: set[tuple[str, str]] = set()
    phases = report.phases
    with engine.begin() as conn:
        chunks = read_chunks(path)
        while True:
            mark = time.perf_counter()
            chunk = next(chunks, None)
            phases["read"] += (now := time.perf_counter()) - mark
            if chunk is None:
                break
            report.rows_in += len(chunk)
            frame = validate_chunk(chunk, report)
            phases["validate"] += (mark := time.perf_counter()) - now
            frame = add_derived_columns(drop_duplicate_keys(frame, seen, report))
            records = to_records(frame)
            phases["dedup_derive"] += (now := time.perf_counter()) - mark
            for start in range(0, len(records), BATCH_ROWS):
                conn.execute(insert, records[start : start + BATCH_ROWS])
            report.rows_loaded += len(records)
            phases["insert"] += time.perf_counter() - now
        mark = time.perf_counter()
    phases["commit"] = time.perf_counter() - mark
    engine.dispose()
    report.seconds = time.perf_counter() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="CSV file in salespipe's canonical columns")
    parser.add_argument(
        "--url",
        required=True,
        help="SQLAlchemy URL of the target, e.g. duckdb:///out.duckdb or postgresql+psycopg://…",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = parser.parse_args(argv)
    report = load_csv(args.file, args.url)
    summary = {
        "rows_in": report.rows_in,
        "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined,
        "reasons": report.reasons,
        "seconds": round(report.seconds, 3),
        "phases": {name: round(sec, 3) for name, sec in report.phases.items()},
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{report.rows_in} rows in, {report.rows_loaded} loaded, "
            f"{report.rows_quarantined} quarantined in {report.seconds:.1f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
