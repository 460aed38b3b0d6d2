"""JSON lines with nested objects and lists of items (an order per line, as shops and
event streams export them): nested keys become columns, `explode` makes a row per item."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from tests.conftest import Project

ORDERS: list[Any] = [
    {
        "order_id": "A-1",
        "created_at": "2024-03-01T09:15:00+01:00",
        "store": {"id": "BER-1", "address": {"city": "Berlin"}, "region": "East"},
        "customer": {"id": "C9"},
        "items": [
            {"sku": "MUG", "qty": 2, "price": "12.00", "discount": "1.00"},
            {"sku": "TEE", "qty": 1, "price": 30},
        ],
    },
    # Late in the evening in Berlin: still 1 March there, though 22:30 UTC.
    {
        "order_id": "A-2",
        "created_at": "2024-03-01T23:30:00+01:00",
        "store": {"id": "BER-1", "address": {"city": "Berlin"}, "region": "East"},
        "items": [{"sku": "MUG", "qty": -1, "price": "12.00"}],
    },
    None,  # a blank line
    {"order_id": "A-3", "created_at": "2024-03-02T10:00:00+01:00", "items": []},
    {
        "order_id": "A-4",
        "created_at": "2024-03-02T11:00:00+01:00",
        "store": {"id": "MUC-1"},
        "items": [
            {"sku": "CAP", "qty": 3, "price": "9.99"},
            {"sku": "CAP", "qty": 0, "price": "9.99"},
        ],
    },
    "not json {",
    {"order_id": "A-5", "created_at": "2024-03-02T12:00:00+01:00", "store": {"id": "MUC-1"}},
]

CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
timezone: Europe/Berlin
currency: EUR
sources:
  - name: shop
    landing: landing/pos
    pattern: "*.jsonl"
    options: {explode: items}
    columns:
      transaction_id: order_id
      line_no: "items.#"
      sold_at: created_at
      store_id: store.id
      city: store.address.city
      region: store.region
      customer_id: customer.id
      product_id: items.sku
      quantity: items.qty
      unit_price: items.price
      discount: items.discount
    formats: {sold_at: "%Y-%m-%dT%H:%M:%S%z"}
"""


def _write(path: Path, records: list[Any]) -> None:
    lines = []
    for record in records:
        if record is None:
            lines.append("")
        elif isinstance(record, str):
            lines.append(record)
        else:
            lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _expected(records: list[Any]) -> dict[str, Decimal]:
    """KPIs computed independently from the JSON, per DESIGN.md's definitions."""
    gross = returns = Decimal(0)
    for record in records:
        if not isinstance(record, dict):
            continue
        for item in record.get("items", []):
            qty = Decimal(str(item["qty"]))
            if qty == 0:
                continue  # zero_quantity is quarantined
            revenue = qty * Decimal(str(item["price"])) - Decimal(item.get("discount", "0"))
            if qty > 0:
                gross += revenue
            else:
                returns -= revenue
    return {"gross_sales": gross, "returns_value": returns, "net_sales": gross - returns}


def test_a_row_per_item_with_nested_keys_exact_to_the_cent(project: Project) -> None:
    project.write_config(CONFIG)
    _write(project.landing / "orders-2024-03-01.jsonl", ORDERS)
    run = project.run()
    (result,) = run["files"]
    # 5 items (4 valid + 1 zero quantity) and 3 lines with no items to load.
    assert result["rows_in"] == 8
    assert result["rows_loaded"] == 4
    assert result["rows_quarantined"] == 4
    assert result["reasons"] == {"malformed_row": 3, "zero_quantity": 1}

    kpis = project.kpis()
    expected = _expected(ORDERS)
    for name, value in expected.items():
        assert Decimal(str(kpis[name])) == value.quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        ), name
    assert kpis["orders"] == 2
    assert kpis["active_stores"] == 2

    daily = project.cli("marts", "show", "sales_daily", "--json")
    assert daily.code == 0, daily.stderr
    rows = {(r["sale_date"], r["store_id"]): r for r in daily.json()["data"]}
    # A-2 at 23:30 in Berlin belongs to 1 March there.
    assert Decimal(str(rows[("2024-03-01", "BER-1")]["net_sales"])) == Decimal("41.00")

    quarantine = project.cli("quarantine", "list", "--json")
    assert quarantine.code == 0, quarantine.stderr
    found = {(q["line"], tuple(q["reasons"])) for q in quarantine.json()}
    # Physical lines: the blank line 3 counts, as in an editor.
    assert found == {
        (4, ("malformed_row",)),
        (5, ("zero_quantity",)),
        (6, ("malformed_row",)),
        (7, ("malformed_row",)),
    }
    by_line = {q["line"]: q for q in quarantine.json()}
    assert "items" in by_line[4]["raw"]["_error"]
    assert by_line[5]["raw"]["items.#"] == "2"
    assert by_line[5]["raw"]["store.id"] == "MUC-1"


def test_nested_keys_without_explode(project: Project) -> None:
    project.write_config(
        """\
        warehouse: duckdb:///warehouse.duckdb
        sources:
          - name: events
            landing: landing/pos
            pattern: "*.jsonl"
            columns:
              transaction_id: id
              sold_at: ts
              store_id: shop.id
              product_id: item.sku
              quantity: item.qty
              unit_price: item.price.amount
        """
    )
    _write(
        project.landing / "events.jsonl",
        [
            {
                "id": "E1",
                "ts": "2024-05-01 10:00:00",
                "shop": {"id": "S1"},
                "item": {"sku": "P1", "qty": "2", "price": {"amount": "4.25", "currency": "USD"}},
            },
            {"id": "E2", "ts": "2024-05-01 11:00:00", "shop": {"id": "S2"}, "item": {"sku": "P2"}},
        ],
    )
    run = project.run()
    (result,) = run["files"]
    assert (result["rows_loaded"], result["rows_quarantined"]) == (1, 1)
    assert result["reasons"] == {"missing_value:quantity": 1, "missing_value:unit_price": 1}
    assert project.kpis()["net_sales"] == 8.5


def test_explode_on_a_csv_source_is_a_config_error(project: Project) -> None:
    project.write_config(
        """\
        warehouse: duckdb:///warehouse.duckdb
        sources:
          - name: pos
            landing: landing/pos
            format: csv
            options: {explode: items}
        """
    )
    result = project.cli("run")
    assert result.code == 2
    assert "explode" in result.stderr
    assert "jsonl" in result.stderr
