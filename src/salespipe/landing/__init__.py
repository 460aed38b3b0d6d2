"""Landing: find the files a source has received, fingerprint them, archive them after loading.

A source lands in a local folder or an S3 prefix; both are a `LandingStore`.
"""

from __future__ import annotations

import json

from salespipe.config.model import Config, Source
from salespipe.errors import ConfigError
from salespipe.landing.files import LandedFile, LandingStore
from salespipe.landing.local import LocalStore
from salespipe.landing.s3 import S3Store, s3_filesystem, split_uri

DEFAULT_PATTERNS = {
    None: "*",
    "csv": "*.csv*",
    "tsv": "*.tsv*",
    "parquet": "*.parquet",
    "jsonl": "*.json*",
    "xlsx": "*.xlsx",
}


def store_for(config: Config, source: Source) -> LandingStore:
    if source.landing.startswith("s3://"):
        bucket, prefix = split_uri(source.landing)
        return S3Store(fs=s3_filesystem(config), root=f"{bucket}/{prefix}".rstrip("/"))
    folder = config.resolve(source.landing)
    if not folder.is_dir():
        raise ConfigError(
            f"landing folder {folder} of source '{source.name}' does not exist",
            key=f"sources.{source.name}.landing",
            hint=f"create it (mkdir -p {folder}) or fix `landing:`",
        )
    return LocalStore(folder)


def discover_files(config: Config, source: Source) -> list[LandedFile]:
    return store_for(config, source).list_files(source.pattern or DEFAULT_PATTERNS[source.format])


def archive_file(
    config: Config,
    source: Source,
    landed: LandedFile,
    *,
    failed: bool,
    report: dict[str, object] | None = None,
) -> str | None:
    """Move a finished file to archive/ (or failed/ with an error report), after its commit."""
    del config
    folder = (source.failed or ("failed" if source.archive else None)) if failed else source.archive
    if not folder or landed.store is None:
        return None
    text = json.dumps(report, indent=2, default=str) if report is not None else None
    return landed.store.move(landed, folder, text)


__all__ = ["LandedFile", "LandingStore", "archive_file", "discover_files", "store_for"]
