"""The monitor over a shop with large unit prices (an IDR shop: 25,000,000 a unit): its
daily series stay exact decimals on both engines instead of overflowing DECIMAL(18,x)."""

from __future__ import annotations

from decimal import Decimal

from .conftest import Project, cli_process, line

PRICE = Decimal("25000000")
QUANTITIES = ("1", "7", "100", "-3", "55", "100")


def test_large_unit_prices_are_monitored_and_kpis_stay_exact(engine_project: Project) -> None:
    project = engine_project
    rows = [
        line(
            f"T{day}{i}",
            1,
            sold_at=f"2025-01-0{day} 1{i}:00:00",
            store=f"S{i % 2 + 1}",
            product=f"P{i % 3}",
            quantity=quantity,
            price=f"{PRICE}.0000",
            cost="20000000.0000",
        )
        for day in (1, 2, 3)
        for i, quantity in enumerate(QUANTITIES)
    ]
    project.write_csv("sales.csv", rows)

    result = cli_process("--config", project.config, "run", "--json")
    assert result.code == 0, result.stderr
    assert "monitor failed" not in result.stdout + result.stderr
    assert "Overflow" not in result.stderr
    stages = project.cli("monitor", "runs", "--json").json()[0]["stages"]
    assert ("monitor", "ok") in [(s["stage"], s["status"]) for s in stages]

    k = project.kpis()
    sold = 3 * sum(Decimal(q) for q in QUANTITIES if Decimal(q) > 0)
    returned = 3 * sum(-Decimal(q) for q in QUANTITIES if Decimal(q) < 0)
    assert Decimal(str(k["gross_sales"])) == sold * PRICE
    assert Decimal(str(k["returns_value"])) == returned * PRICE
    assert Decimal(str(k["net_sales"])) == (sold - returned) * PRICE
    assert Decimal(str(k["units_sold"])) == sold
