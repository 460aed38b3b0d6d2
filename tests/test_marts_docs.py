"""docs/marts.md is generated from the declarations; docs/kpis.md defines every KPI shown."""

from __future__ import annotations

from pathlib import Path

from salespipe.marts import BUILD_ORDER
from salespipe.marts.docs import render_marts_doc
from salespipe.query.compare import COMPARED, COMPARISONS

from .conftest import Project, cli

ROOT = Path(__file__).resolve().parents[1]


def test_marts_doc_is_current() -> None:
    current = (ROOT / "docs" / "marts.md").read_text(encoding="utf-8")
    assert current == render_marts_doc(), (
        "docs/marts.md is stale: salespipe marts docs --out docs/marts.md"
    )


def test_every_mart_and_column_is_documented() -> None:
    text = render_marts_doc()
    for mart in BUILD_ORDER:
        assert f"## {mart.name}\n" in text or f"### {mart.name}\n" in text
        for column in mart.columns:
            assert f"| `{column.name}`" in text


def test_marts_docs_check_flags_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "marts.md"
    stale.write_text("old", encoding="utf-8")
    assert cli("marts", "docs", "--out", stale, "--check").code == 1
    assert cli("marts", "docs", "--out", stale).code == 0
    assert cli("marts", "docs", "--out", stale, "--check").code == 0


def test_kpis_doc_defines_every_kpi_and_comparison(project: Project) -> None:
    text = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    project.run()  # an empty warehouse is enough to list the keys of `kpi --json`
    keys = set(project.kpis()) | set(COMPARED)
    for key in keys - {"from", "to"}:
        assert f"`{key}`" in text, f"{key} is not defined in docs/kpis.md"
    for mode in COMPARISONS:
        assert f"`{mode}`" in text
    for term in ("mom_pct", "NTILE(5)", "DENSE_RANK", "round(0.01 * net_sales, 2)", "80%", "95%"):
        assert term in text
