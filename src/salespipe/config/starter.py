"""The commented starter config written by `salespipe init`.

It works unchanged with the files `salespipe generate --out landing/pos` writes.
"""

from __future__ import annotations

from pathlib import Path

STARTER_CONFIG = """\
# salespipe configuration. Paths are relative to this file.
# Any value written as env:NAME is read from the environment variable NAME.
# Every key is documented in docs/config.md.

# Where the star-schema warehouse lives (embedded DuckDB file).
warehouse: duckdb:///warehouse.duckdb
# Time zone of local sale times, and the currency KPIs are reported in.
timezone: UTC
currency: USD

sources:
  - name: pos
    # Folder (or s3://bucket/prefix) where exports land, and which files to take.
    landing: landing/pos
    pattern: "*.csv"
    format: csv
    options: {delimiter: ",", encoding: utf-8, decimal: ".", header: true}
    # Canonical field -> raw column | {expr: SQL} | {value: constant}.
    # A canonical field not listed is taken from a raw column of the same name,
    # so the files of `salespipe generate` need no mapping at all. Examples:
    #   sold_at: {expr: "date || ' ' || time"}
    #   quantity: {value: 1}
    columns: {}
    # strptime formats per timestamp field, e.g. sold_at: "%d.%m.%Y %H:%M"
    formats:
      sold_at: "%Y-%m-%d %H:%M:%S"
    # Row identity: a key already in the warehouse is updated, not added twice.
    key: [transaction_id, line_no]
    # Extra row rules; rows where the check is not true are quarantined as rule:<name>.
    rules:
      - {name: price_cap, check: "unit_price < 100000"}
    # Loaded files move here (relative to the landing folder); rejected ones to failed/.
    archive: processed/
"""


def write_starter(directory: Path, *, force: bool = False) -> list[Path]:
    """Create salespipe.yaml and the landing folder; refuse to overwrite unless forced."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "salespipe.yaml"
    if config.exists() and not force:
        from salespipe.errors import UsageError

        raise UsageError(f"{config} already exists", hint="pass --force to overwrite it")
    config.write_text(STARTER_CONFIG, encoding="utf-8")
    landing = directory / "landing" / "pos"
    landing.mkdir(parents=True, exist_ok=True)
    return [config, landing]
