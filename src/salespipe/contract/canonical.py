"""The canonical sales line: every field a contract can map, its type and whether it is required.

This table is the single declaration the contract compiler, the warehouse schema and
the docs read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "timestamp", "quantity", "money"]


@dataclass(frozen=True)
class CanonicalField:
    name: str
    kind: Kind
    required: bool = False
    default: str | None = None  # SQL literal used when the field is not mapped
    description: str = ""


FIELDS: tuple[CanonicalField, ...] = (
    CanonicalField(
        "transaction_id", "text", description="Order, invoice or receipt id; order KPIs need it."
    ),
    CanonicalField("line_no", "text", description="Line within the transaction."),
    CanonicalField(
        "sold_at",
        "timestamp",
        required=True,
        description="When the sale happened; a date alone is allowed.",
    ),
    CanonicalField("store_id", "text", default="'ALL'", description="Store; defaults to ALL."),
    CanonicalField("store_name", "text"),
    CanonicalField("city", "text"),
    CanonicalField("region", "text"),
    CanonicalField("country", "text"),
    CanonicalField("product_id", "text", required=True),
    CanonicalField("product_name", "text"),
    CanonicalField("category", "text"),
    CanonicalField("subcategory", "text"),
    CanonicalField("brand", "text"),
    CanonicalField(
        "quantity", "quantity", required=True, description="Negative = return; zero is invalid."
    ),
    CanonicalField("unit_price", "money", required=True, description=">= 0."),
    CanonicalField(
        "discount",
        "money",
        default="0",
        description="Line amount, 0 <= discount <= abs(quantity*unit_price).",
    ),
    CanonicalField("unit_cost", "money", description=">= 0; enables profit and margin."),
    CanonicalField("customer_id", "text"),
    CanonicalField("customer_name", "text"),
    CanonicalField("salesperson_id", "text"),
    CanonicalField("salesperson_name", "text"),
    CanonicalField("channel", "text"),
    CanonicalField("payment_method", "text"),
    CanonicalField("currency", "text"),
)

CANONICAL_FIELDS: dict[str, CanonicalField] = {f.name: f for f in FIELDS}
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)

# Stable reason codes (documented in docs/contracts.md). Bits index the row mask.
BUILTIN_REASONS: tuple[str, ...] = (
    "bad_timestamp",
    "bad_number",
    "negative_price",
    "zero_quantity",
    "discount_exceeds_amount",
    "negative_cost",
    "missing_value:sold_at",
    "missing_value:product_id",
    "missing_value:quantity",
    "missing_value:unit_price",
    "missing_value:fx_rate",
)
DUPLICATE_KEY = "duplicate_key"
