"""Local landing folders: discover files by pattern, hash their bytes, move them when done."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from salespipe.config.model import Config, Source
from salespipe.errors import ConfigError

DEFAULT_PATTERNS = {
    None: "*",
    "csv": "*.csv*",
    "tsv": "*.tsv*",
    "parquet": "*.parquet",
    "jsonl": "*.json*",
    "xlsx": "*.xlsx",
}


@dataclass(frozen=True)
class LandedFile:
    uri: str
    path: Path
    name: str
    size: int

    def content_hash(self) -> str:
        with self.path.open("rb") as fh:
            return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()


def landing_dir(config: Config, source: Source) -> Path:
    if source.landing.startswith("s3://"):
        raise ConfigError(
            f"sources[{source.name}].landing: S3 landing is not available in this version",
            key="landing",
            hint="use a local folder for now",
        )
    return config.resolve(source.landing)


def discover_files(config: Config, source: Source) -> list[LandedFile]:
    folder = landing_dir(config, source)
    if not folder.is_dir():
        raise ConfigError(
            f"landing folder {folder} of source '{source.name}' does not exist",
            key=f"sources.{source.name}.landing",
            hint=f"create it (mkdir -p {folder}) or fix `landing:`",
        )
    pattern = source.pattern or DEFAULT_PATTERNS[source.format]
    files = [
        p
        for p in folder.glob(pattern)
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.endswith((".error.json", ".tmp", ".part"))
    ]
    files.sort(key=lambda p: str(p))
    return [LandedFile(uri=str(p), path=p, name=p.name, size=p.stat().st_size) for p in files]


def archive_file(
    config: Config,
    source: Source,
    landed: LandedFile,
    *,
    failed: bool,
    report: dict[str, object] | None = None,
) -> Path | None:
    """Move a finished file to archive/ (or failed/), relative to the landing folder."""
    if failed:
        target_name = source.failed or ("failed" if source.archive else None)
    else:
        target_name = source.archive
    if not target_name:
        return None
    target_dir = Path(target_name)
    if not target_dir.is_absolute():
        target_dir = landing_dir(config, source) / target_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / landed.name
    if target.exists():
        target = (
            target_dir
            / f"{landed.path.stem}.{hashlib.sha1(landed.uri.encode()).hexdigest()[:8]}{landed.path.suffix}"
        )
    shutil.move(str(landed.path), target)
    if report is not None:
        (target_dir / (target.name + ".error.json")).write_text(
            json.dumps(report, indent=2, default=str)
        )
    return target
