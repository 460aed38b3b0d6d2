"""A benchmark's own section of docs/benchmarks.md, between its start and end marks:
rewritten in place, or added at the end the first time; the other sections are kept."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(section: str, start_mark: str, end_mark: str) -> None:
    """Put `section` (which starts with `start_mark` and ends with `end_mark`) in the page."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if start_mark in text and end_mark in text:
        head, rest = text.split(start_mark, 1)
        _, tail = rest.split(end_mark, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
