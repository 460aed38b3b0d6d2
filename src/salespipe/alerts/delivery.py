"""Sending a digest to every configured channel: routing by least severity, retries with
backoff, a row in alert_deliveries per channel, and events marked as sent. Nothing here
raises: a channel that keeps failing is logged and recorded, and the run goes on."""

from __future__ import annotations

import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from salespipe.alerts.digest import NEW, REMINDER, WORSE, Digest, build_digest
from salespipe.alerts.mail import email_message, send_email
from salespipe.alerts.slack import slack_payload
from salespipe.config.model import Alerts
from salespipe.monitor.events import Changes
from salespipe.monitor.health import json_value

log = logging.getLogger("salespipe.alerts")


class DeliveryError(Exception):
    """One attempt to deliver failed (HTTP status, network or SMTP error)."""


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    status: str  # sent | failed
    attempts: int
    events: int
    seconds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


def post_json(
    url: str, payload: dict[str, Any], timeout: float, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(payload, default=json_value).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "salespipe", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:200].decode("utf-8", "replace")
        raise DeliveryError(f"HTTP {exc.code} from {_where(url)}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"cannot reach {_where(url)}: {reason}") from None


def _where(url: str) -> str:
    """The URL without its path: webhook paths are secrets."""
    parts = url.split("/")
    return "/".join(parts[:3]) if len(parts) > 3 else url


def with_retries(
    channel: str, send: Callable[[], None], settings: Alerts, events: int
) -> DeliveryResult:
    """Try once, then `retries` more times, waiting backoff, 2 x backoff, ... between."""
    started = time.perf_counter()
    error = None
    attempts = 0
    for attempt in range(settings.retries + 1):
        attempts = attempt + 1
        try:
            send()
            return DeliveryResult(channel, "sent", attempts, events, time.perf_counter() - started)
        except (DeliveryError, OSError, smtplib.SMTPException) as exc:
            error = str(exc) or type(exc).__name__
            log.warning("alert to %s failed (attempt %d): %s", channel, attempts, error)
            if attempt < settings.retries:
                time.sleep(settings.backoff_seconds * 2**attempt)
    log.error("alert to %s given up after %d attempts: %s", channel, attempts, error)
    return DeliveryResult(channel, "failed", attempts, events, time.perf_counter() - started, error)


def _channels(settings: Alerts) -> list[tuple[str, str, Callable[[Digest], Callable[[], None]]]]:
    """(name, least severity, digest -> sender) of every configured channel."""
    out: list[tuple[str, str, Callable[[Digest], Callable[[], None]]]] = []
    timeout = settings.timeout_seconds
    if settings.slack is not None:
        slack = settings.slack
        out.append(
            (
                "slack",
                slack.min_severity,
                lambda d: lambda: post_json(slack.webhook_url, slack_payload(d), timeout),
            )
        )
    if settings.webhook is not None:
        hook = settings.webhook
        out.append(
            (
                "webhook",
                hook.min_severity,
                lambda d: lambda: post_json(hook.url, d.to_dict(), timeout, hook.headers),
            )
        )
    if settings.email is not None:
        mail = settings.email
        out.append(
            (
                "email",
                mail.min_severity,
                lambda d: lambda: send_email(email_message(d, mail), mail, timeout),
            )
        )
    return out


def deliver_alerts(
    con: duckdb.DuckDBPyConnection,
    settings: Alerts | None,
    changes: Changes,
    run_id: str,
    now: datetime,
) -> list[DeliveryResult]:
    """Send this run's digest; record each channel's delivery; mark what went out."""
    channels = _channels(settings) if settings is not None else []
    if settings is None or not channels:
        return []
    digest = build_digest(con, changes, settings, run_id, now)
    results: list[DeliveryResult] = []
    sent: set[int] = set()
    for name, least, sender in channels:
        routed = digest.routed(least)
        if not routed.items:
            continue
        result = with_retries(name, sender(routed), settings, len(routed.items))
        results.append(result)
        con.execute(
            "INSERT INTO alert_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, name, result.status, result.attempts, result.events, result.error,
             result.seconds, now],
        )  # fmt: skip
        if result.status == "sent":
            sent.update(i.event.id for i in routed.items if i.change in (NEW, WORSE, REMINDER))
    for event_id in sorted(sent):
        con.execute(
            "UPDATE monitor_events SET notified_at = ?, notified_severity = severity WHERE id = ?",
            [now, event_id],
        )
    return results
