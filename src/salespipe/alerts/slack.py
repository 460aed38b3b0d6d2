"""Slack: a Block Kit message for an incoming webhook (header, a section per group of
changes, a context line); the plain `text` is the notification's fallback."""

from __future__ import annotations

from typing import Any

from salespipe.alerts.digest import CHANGES, TITLES, Digest

MAX_SECTION = 2900  # Slack refuses section texts over 3000 characters
MAX_LINES = 40  # a digest lists at most this many events; the rest are counted


def slack_payload(digest: Digest) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"salespipe: {digest.summary()}"[:150]},
        }
    ]
    shown = 0
    for change in CHANGES:
        items = digest.group(change)
        if not items:
            continue
        lines = [i.line() for i in items[: max(MAX_LINES - shown, 0)]]
        shown += len(lines)
        if len(items) > len(lines):
            lines.append(f"… and {len(items) - len(lines)} more")
        for chunk in _chunks([f"*{TITLES[change]}*", *lines]):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"run `{digest.run_id}` · {digest.open_events} open event(s) · "
                    "`salespipe monitor list`, `salespipe monitor ack ID`",
                }
            ],
        }
    )
    return {"text": digest.title(), "blocks": blocks}


def _chunks(lines: list[str]) -> list[str]:
    out: list[str] = []
    current = ""
    for line in lines:
        line = line[:MAX_SECTION]
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out
