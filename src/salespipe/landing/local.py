"""Local landing folders: list files by pattern and move them to processed/ or failed/."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from salespipe.landing.files import LandedFile

IGNORED_SUFFIXES = (".error.json", ".tmp", ".part", ".crdownload", ".swp")


def is_candidate(name: str) -> bool:
    """Hidden files, error reports and files still being written are never loaded."""
    return not name.startswith((".", "~$")) and not name.endswith(IGNORED_SUFFIXES)


@dataclass
class LocalStore:
    folder: Path

    def list_files(self, pattern: str) -> list[LandedFile]:
        paths = sorted(p for p in self.folder.glob(pattern) if p.is_file() and is_candidate(p.name))
        return [
            LandedFile(uri=str(p), name=p.name, size=p.stat().st_size, store=self, path=p)
            for p in paths
        ]

    def fetch(self, landed: LandedFile) -> Path:
        return Path(landed.uri)

    def move(self, landed: LandedFile, folder: str, report: str | None) -> str:
        target_dir = Path(folder)
        if not target_dir.is_absolute():
            target_dir = self.folder / target_dir
        target_dir.mkdir(parents=True, exist_ok=True)
        source = Path(landed.uri)
        target = target_dir / landed.name
        if target.exists():
            digest = hashlib.sha1(
                landed.uri.encode() + str(source.stat().st_mtime_ns).encode()
            ).hexdigest()[:8]
            target = target_dir / f"{source.stem}.{digest}{source.suffix}"
        shutil.move(str(source), target)
        if report is not None:
            (target_dir / (target.name + ".error.json")).write_text(report, encoding="utf-8")
        return str(target)
