"""S3-compatible landing (AWS, MinIO, R2): list objects, download them once, move them after loading.

Objects are downloaded to a temporary file before reading, so every reader, the
content hash and the ledger work exactly as for local files.
"""

from __future__ import annotations

import fnmatch
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salespipe.config.model import Config
from salespipe.errors import ConfigError, MissingExtraError, ReadError
from salespipe.landing.files import LandedFile
from salespipe.landing.local import is_candidate


def s3_filesystem(config: Config) -> Any:
    try:
        import s3fs
    except ImportError:
        raise MissingExtraError("s3fs", "s3") from None
    settings = config.s3
    kwargs: dict[str, Any] = {}
    client: dict[str, Any] = {}
    if settings is not None:
        if settings.endpoint_url:
            kwargs["endpoint_url"] = settings.endpoint_url
        if settings.access_key_id:
            kwargs["key"] = settings.access_key_id
        if settings.secret_access_key:
            kwargs["secret"] = settings.secret_access_key
        if settings.region:
            client["region_name"] = settings.region
    if client:
        kwargs["client_kwargs"] = client
    # Listings must be fresh: a watcher polls the same prefix again and again.
    return s3fs.S3FileSystem(use_listings_cache=False, skip_instance_cache=True, **kwargs)


def split_uri(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("s3://").strip("/")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ConfigError(f"'{uri}' names no bucket", key="landing", hint="use s3://bucket/prefix")
    return bucket, prefix


@dataclass
class S3Store:
    fs: Any
    root: str  # bucket/prefix, no scheme, no trailing slash

    def list_files(self, pattern: str) -> list[LandedFile]:
        try:
            entries = self.fs.ls(self.root, detail=True, refresh=True)
        except FileNotFoundError:
            # An empty prefix is no folder on S3 (nothing landed yet); a missing bucket is
            # a mistake, not a quiet pipeline.
            self._check_bucket()
            return []
        except Exception as exc:  # botocore raises many types (credentials, endpoint, access)
            raise ReadError(
                f"cannot list s3://{self.root}: {exc}",
                hint="check s3.endpoint_url, the credentials and that the bucket exists",
            ) from None
        out = []
        for entry in sorted(entries, key=lambda e: str(e["name"])):
            key = str(entry["name"])
            name = key.rsplit("/", 1)[-1]
            if (
                entry.get("type") != "file"
                or not is_candidate(name)
                or not fnmatch.fnmatch(name, pattern)
            ):
                continue
            out.append(
                LandedFile(
                    uri=f"s3://{key}", name=name, size=int(entry.get("size") or 0), store=self
                )
            )
        return out

    def _check_bucket(self) -> None:
        bucket = self.root.split("/", 1)[0]
        try:
            exists = self.fs.exists(bucket)
        except Exception:  # the listing just worked: an answer we cannot read is no proof
            return
        if not exists:
            raise ReadError(
                f"no bucket '{bucket}' at the S3 endpoint (landing s3://{self.root})",
                hint="check the source's `landing:` (bucket name) and s3.endpoint_url",
            )

    def fetch(self, landed: LandedFile) -> Path:
        fd, name = tempfile.mkstemp(prefix="salespipe-s3-", suffix="-" + landed.name)
        import os

        os.close(fd)
        try:
            self.fs.get_file(landed.uri.removeprefix("s3://"), name)
        except Exception as exc:
            Path(name).unlink(missing_ok=True)
            raise ReadError(f"cannot download the object: {exc}", file=landed.uri) from None
        return Path(name)

    def move(self, landed: LandedFile, folder: str, report: str | None) -> str:
        target_dir = f"{self.root}/{folder.strip('/')}"
        target = f"{target_dir}/{landed.name}"
        if self.fs.exists(target):
            import hashlib

            target = (
                f"{target_dir}/{hashlib.sha1(landed.uri.encode()).hexdigest()[:8]}-{landed.name}"
            )
        self.fs.mv(landed.uri.removeprefix("s3://"), target)
        if report is not None:
            self.fs.pipe(target + ".error.json", report.encode("utf-8"))
        return f"s3://{target}"
