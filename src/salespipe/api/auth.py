"""API keys: `X-API-Key` checked in constant time against salespipe.yaml's `api.keys`.

A configured key is a value (usually `env:NAME`, resolved by the config loader) or the
SHA-256 of it, `sha256:<64 hex>`. Both are kept as digests and compared with
hmac.compare_digest against every key, so timing says nothing about a key's content.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

from salespipe.config.model import Config
from salespipe.errors import ConfigError

Scope = Literal["read", "admin"]
SHA256_RE = re.compile(r"^sha256:([0-9a-fA-F]{64})$")
LOCAL_CLI = "local-cli"


@dataclass(frozen=True)
class KeyEntry:
    name: str
    scope: Scope
    digest: bytes

    def allows(self, scope: Scope) -> bool:
        return self.scope == "admin" or scope == "read"


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def hash_key(value: str) -> str:
    """The `sha256:<hex>` form of a key, to store in salespipe.yaml instead of the key."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyRing:
    """The keys a server accepts. Without configured keys the API is open (loopback only)."""

    entries: tuple[KeyEntry, ...]
    configured: bool

    @classmethod
    def from_config(cls, config: Config, local_token: str | None = None) -> KeyRing:
        entries: list[KeyEntry] = []
        keys = config.api.keys if config.api else []
        for i, key in enumerate(keys):
            where = f"api.keys[{i}].key"
            if key.key.startswith("sha256:"):
                match = SHA256_RE.match(key.key)
                if not match:
                    raise ConfigError(
                        f"{where} of '{key.name}' is not sha256:<64 hex digits>",
                        key=where,
                        hint="printf %s 'the-key' | sha256sum  gives the digest",
                    )
                digest = bytes.fromhex(match.group(1))
            elif not key.key:
                raise ConfigError(f"{where} of '{key.name}' is empty", key=where)
            else:
                digest = _digest(key.key)
            entries.append(KeyEntry(key.name, key.scope, digest))
        configured = bool(entries)
        if local_token:
            # The discovery file's token: local CLI commands act as admin.
            entries.append(KeyEntry(LOCAL_CLI, "admin", _digest(local_token)))
        return cls(tuple(entries), configured)

    def authenticate(self, presented: str) -> KeyEntry | None:
        digest = _digest(presented)
        found: KeyEntry | None = None
        for entry in self.entries:  # no early exit: every key is compared
            if hmac.compare_digest(digest, entry.digest):
                found = entry
        return found
