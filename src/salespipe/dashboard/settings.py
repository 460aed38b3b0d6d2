"""The dashboard's settings: where the API is, its key, how often to look for new data.

`salespipe dashboard` passes them to the Streamlit script as arguments (the API key as
the environment variable SALESPIPE_API_KEY, so it never shows in a process list).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

API_KEY_ENV = "SALESPIPE_API_KEY"
DEFAULT_API = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    api_url: str = DEFAULT_API
    api_key: str | None = None
    poll_seconds: float = 2.0  # how often open pages ask the API for its snapshot id
    currency: str | None = None  # shown beside amounts when known

    @classmethod
    def from_args(cls, argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
        parser = argparse.ArgumentParser(prog="salespipe-dashboard", add_help=False)
        parser.add_argument("--api", default=DEFAULT_API)
        parser.add_argument("--poll-seconds", type=float, default=2.0)
        parser.add_argument("--currency", default=None)
        args, _ = parser.parse_known_args(list(argv))
        return cls(
            api_url=str(args.api),
            api_key=environ.get(API_KEY_ENV) or None,
            poll_seconds=max(0.5, float(args.poll_seconds)),
            currency=args.currency or None,
        )

    def to_args(self) -> list[str]:
        args = ["--api", self.api_url, "--poll-seconds", str(self.poll_seconds)]
        if self.currency:
            args += ["--currency", self.currency]
        return args

    def environ(self) -> dict[str, str]:
        return {API_KEY_ENV: self.api_key} if self.api_key else {}


def settings_from_process() -> Settings:
    import sys

    return Settings.from_args(sys.argv[1:], os.environ)
