"""product_abc at the 80% and 95% boundaries, on lines written straight into the fact."""

from __future__ import annotations

from pathlib import Path

import pytest

from salespipe.marts import refresh_marts
from salespipe.warehouse.duckdb import open_duckdb


def classes(tmp_path: Path, revenues: dict[str, str]) -> dict[str, tuple[int, str | None]]:
    with open_duckdb(tmp_path / "w.duckdb") as wh:
        for i, (product, amount) in enumerate(revenues.items()):
            wh.con.execute(
                "INSERT INTO fact_sales (source, file_id, row_key, row_hash, transaction_id, sold_at, "
                "sale_date, store_id, product_id, quantity, unit_price, discount, fx_rate, line_revenue) "
                "VALUES ('s', 1, ?, 0, ?, TIMESTAMPTZ '2025-01-02 10:00:00+00', DATE '2025-01-02', "
                "'S1', ?, 1, ?, 0, 1, ?)",
                [f"k{i}", f"T{i}", product, amount, amount],
            )
            wh.con.execute("INSERT INTO dim_product (product_id) VALUES (?)", [product])
        wh.con.execute("INSERT INTO dim_store (store_id) VALUES ('S1')")
        refresh_marts(wh.con, full=True)
        rows = wh.con.execute(
            "SELECT product_id, pareto_rank, abc_class, cumulative_share_pct FROM product_abc"
        ).fetchall()
    return {str(p): (int(r), c) for p, r, c, _ in rows}


def test_exact_boundaries(tmp_path: Path) -> None:
    # cumulative share before each product: 0, 50, 80, 95
    got = classes(tmp_path, {"P1": "50", "P2": "30", "P3": "15", "P4": "5"})
    assert got == {"P1": (1, "A"), "P2": (2, "A"), "P3": (3, "B"), "P4": (4, "C")}


def test_products_crossing_a_boundary_keep_the_upper_class(tmp_path: Path) -> None:
    # before: 0, 60, 90, 96 -> P2 crosses 80% (A), P3 crosses 95% (B)
    got = classes(tmp_path, {"P1": "60", "P2": "30", "P3": "6", "P4": "4"})
    assert got == {"P1": (1, "A"), "P2": (2, "A"), "P3": (3, "B"), "P4": (4, "C")}


def test_a_single_product_is_a_and_ties_rank_by_product_id(tmp_path: Path) -> None:
    got = classes(tmp_path, {"P9": "40", "P2": "40", "P5": "20"})
    # P2 and P9 tie: P2 ranks first (before 0 -> A), P9 starts at 40% -> A, P5 at 80% -> B
    assert got == {"P2": (1, "A"), "P9": (2, "A"), "P5": (3, "B")}


@pytest.mark.parametrize("amounts", [{"P1": "10", "P2": "-10"}, {"P1": "-3"}])
def test_no_class_when_products_net_to_zero_or_less(
    tmp_path: Path, amounts: dict[str, str]
) -> None:
    assert {c for _, c in classes(tmp_path, amounts).values()} == {None}


def test_boundaries_compare_exact_decimals_not_rounded_shares(tmp_path: Path) -> None:
    # before P2: 79.99999% (A, though it shows as 80.00%); before P3: 94.99999% (B)
    got = classes(tmp_path, {"P1": "79.99999", "P2": "15", "P3": "5.00001"})
    assert got == {"P1": (1, "A"), "P2": (2, "A"), "P3": (3, "B")}
