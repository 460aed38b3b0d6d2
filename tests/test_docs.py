"""Docs that cannot drift: the config reference is generated from the declared settings."""

from __future__ import annotations

from pathlib import Path

from salespipe.config.reference import render

ROOT = Path(__file__).resolve().parents[1]


def test_config_reference_is_current() -> None:
    current = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert current == render(), (
        "docs/config.md is stale: python -m salespipe.config.reference > docs/config.md"
    )


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:1500]
    assert "make demo" in head and "make test" in head


def test_contracts_doc_lists_every_canonical_field() -> None:
    from salespipe.contract.canonical import FIELDS

    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    section = text.split("## Canonical fields", 1)[1].split("\n## ", 1)[0]
    for field in FIELDS:
        row = f"| `{field.name}` |"
        assert row in section, field.name
        assert ("| yes |" in section.split(row, 1)[1].split("\n", 1)[0]) == field.required
