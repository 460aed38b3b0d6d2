"""Property tests: any file reconciles; re-runs and load order never change the KPIs."""

from __future__ import annotations

import csv
import itertools
import shutil
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import BASIC_CONFIG, HEADER, Project

CENT = Decimal("0.01")

numbers = st.one_of(
    st.decimals(min_value=-50, max_value=500, places=2, allow_nan=False, allow_infinity=False).map(
        str
    ),
    st.sampled_from(["0", "abc", "", "1e2", " 7 ", "-0.00"]),
)
timestamps = st.one_of(
    st.datetimes(
        min_value=__import__("datetime").datetime(2024, 1, 1),
        max_value=__import__("datetime").datetime(2025, 12, 31),
    ).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(["", "2025-02-30 10:00:00", "yesterday"]),
)
rows = st.lists(
    st.fixed_dictionaries(
        {
            "transaction_id": st.sampled_from(["T1", "T2", "T3", "T4", "T5", "T6", ""]),
            "line_no": st.sampled_from(["1", "2", "3"]),
            "sold_at": timestamps,
            "store_id": st.sampled_from(["S1", "S2", ""]),
            "product_id": st.sampled_from(["P1", "P2", "P3", ""]),
            "quantity": numbers,
            "unit_price": numbers,
            "discount": st.sampled_from(["0", "0.50", "", "99999"]),
            "unit_cost": st.sampled_from(["1.00", "", "-1"]),
        }
    ),
    max_size=30,
)


def dec(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text.strip() else None
    except ArithmeticError:
        return None


def expected_valid(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Independent model of validation and in-file dedup: the rows that must load."""
    from datetime import datetime

    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        try:
            ts = datetime.strptime(r["sold_at"], "%Y-%m-%d %H:%M:%S") if r["sold_at"] else None
        except ValueError:
            continue
        q, p = dec(r["quantity"]), dec(r["unit_price"])
        d = dec(r["discount"]) if r["discount"] else Decimal(0)
        c = dec(r["unit_cost"]) if r["unit_cost"] else None
        if (
            ts is None
            or q is None
            or p is None
            or d is None
            or not r["product_id"]
            or not r["transaction_id"]
        ):
            continue
        if q == 0 or p < 0 or d < 0 or d > abs(q * p) or (c is not None and c < 0):
            continue
        key = (r["transaction_id"], r["line_no"])
        if key not in out:
            out[key] = {"q": q, "p": p, "d": d}
    return list(out.values())


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for r in rows:
            w.writerow([r.get(c, "") for c in HEADER])


def new_project() -> Project:
    root = Path(tempfile.mkdtemp(prefix="sp-prop-"))
    p = Project(root)
    p.landing.mkdir(parents=True)
    p.write_config(BASIC_CONFIG)
    return p


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows)
def test_any_file_reconciles_and_loads_exactly_the_valid_rows(rows: list[dict[str, str]]) -> None:
    p = new_project()
    try:
        write(p.landing / "f.csv", rows)
        f = p.run()["files"][0]
        assert f["status"] == "loaded"
        assert f["rows_in"] == len(rows)
        assert (
            f["rows_in"]
            == f["rows_loaded"] + f["rows_updated"] + f["rows_quarantined"] + f["rows_duplicate"]
        )
        valid = expected_valid(rows)
        assert f["rows_loaded"] == len(valid)
        k = p.kpis()
        net = sum((v["q"] * v["p"] - v["d"] for v in valid), Decimal(0))
        assert Decimal(str(k["net_sales"])) == net.quantize(CENT, rounding=ROUND_HALF_UP)
        assert k["lines"] == len(valid)
        # re-running changes nothing
        again = p.run()["files"][0]
        assert again["status"] == "skipped"
        assert p.kpis() == k
    finally:
        shutil.rmtree(p.root, ignore_errors=True)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(rows, min_size=2, max_size=3))
def test_load_order_never_changes_kpis(batches: list[list[dict[str, str]]]) -> None:
    # Give each file its own transactions so no key has two versions across files.
    files = [
        [dict(r, transaction_id=f"F{i}-{r['transaction_id']}") for r in b]
        for i, b in enumerate(batches)
    ]
    results = []
    for order in itertools.islice(itertools.permutations(range(len(files))), 3):
        p = new_project()
        try:
            for step, i in enumerate(order):
                write(p.landing / f"{step}.csv", files[i])
                p.run()
            results.append(p.kpis())
        finally:
            shutil.rmtree(p.root, ignore_errors=True)
    assert all(r == results[0] for r in results)
