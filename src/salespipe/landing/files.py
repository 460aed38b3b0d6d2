"""A landed file, wherever it landed: its URI, name, size, bytes and content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class LandingStore(Protocol):
    """Where a source's files land: a local folder or an S3 prefix."""

    def list_files(self, pattern: str) -> list[LandedFile]: ...

    def fetch(self, landed: LandedFile) -> Path: ...

    def move(self, landed: LandedFile, folder: str, report: str | None) -> str: ...


@dataclass
class LandedFile:
    uri: str
    name: str
    size: int
    store: LandingStore | None = None
    path: Path | None = None  # local bytes: the file itself, or a downloaded copy
    temporary: bool = False
    _hash: str | None = field(default=None, repr=False)

    def local_path(self) -> Path:
        """A local path to the bytes, downloading them once if the file is remote."""
        if self.path is None:
            assert self.store is not None
            self.path = self.store.fetch(self)
            self.temporary = True
        return self.path

    def content_hash(self) -> str:
        if self._hash is None:
            with self.local_path().open("rb") as fh:
                self._hash = "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
        return self._hash

    def release(self) -> None:
        """Remove a downloaded copy."""
        if self.temporary and self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None
            self.temporary = False
