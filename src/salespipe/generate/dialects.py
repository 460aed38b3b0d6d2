"""Line-oriented text formats of the generator: CSV, TSV and JSON lines.

A dialect says how one field is written (escaping, JSON key) and what separates
fields and ends a row; the text renderer builds every line from these pieces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from salespipe.generate.formatting import COLUMNS

# Characters json.dumps escapes (it keeps other non-ASCII text with ensure_ascii=False).
_JSON_SPECIAL = re.compile(r'["\\\x00-\x1f]')


@dataclass(frozen=True)
class TextDialect:
    """How one line-oriented text format writes a field and a row."""

    separator: str
    is_json: bool = False

    def header(self) -> bytes:
        """The header line (JSON lines has none)."""
        return b"" if self.is_json else (self.separator.join(COLUMNS) + "\n").encode()

    def field(self, name: str, value: str | None) -> str:
        """One rendered field: escaped text, or "key":value in JSON; None is empty / null."""
        if self.is_json:
            return f"{json.dumps(name)}:{json.dumps(value, ensure_ascii=False)}"
        if value is None:
            return ""
        if any(ch in value for ch in (self.separator, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    def _needs_escaping(self, text: str) -> bool:
        special = (
            _JSON_SPECIAL if self.is_json else re.compile(f'[{re.escape(self.separator)}"\r\n]')
        )
        return special.search(text) is not None

    def column(self, name: str, values: Sequence[str | None]) -> list[str]:
        """Every value of a column rendered as a field; one regex scan decides
        whether any of them needs escaping at all (almost never)."""
        if self._needs_escaping("".join(v for v in values if v is not None)):
            return [self.field(name, v) for v in values]
        if self.is_json:
            key = json.dumps(name) + ":"
            return [key + "null" if v is None else f'{key}"{v}"' for v in values]
        return ["" if v is None else v for v in values]

    def rows(
        self, names: Sequence[str], columns: Sequence[Sequence[str | None]], end: str
    ) -> list[str]:
        """Rendered fields of several columns joined per row, each row followed by `end`."""
        rendered = [self.column(n, c) for n, c in zip(names, columns, strict=True)]
        return [self.separator.join(parts) + end for parts in zip(*rendered, strict=True)]

    def affixes(self, name: str) -> tuple[str, str]:
        """What goes around a value rendered in bulk (digits and dates never need escaping)."""
        return (f'"{name}":"', '"') if self.is_json else ("", "")

    @property
    def row_start(self) -> str:
        return "{" if self.is_json else ""

    @property
    def row_end(self) -> str:
        return "}\n" if self.is_json else "\n"


CSV = TextDialect(",")
TSV = TextDialect("\t")
JSONL = TextDialect(",", is_json=True)
