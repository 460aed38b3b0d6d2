"""Alerts against real local servers: an HTTP server receiving the Slack and webhook posts,
an SMTP server (aiosmtpd) receiving the mail. What arrives, one digest per run, no repeat
within the cooldown, reminders after it, recoveries, routing by severity, and retries on
a server that fails first; a channel that keeps failing never fails the run."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import duckdb
import pytest
from aiosmtpd.controller import Controller

from salespipe.config import load_config
from salespipe.monitor import monitor_now

from .conftest import HEADER, Project, line
from .servers import free_port


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1; `failures[path]` answers 500 that many times first."""

    url: str = ""
    posts: list[Post] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p.body for p in self.posts if p.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                failing = state.failures.get(self.path, 0)
                if failing:
                    state.failures[self.path] = failing - 1
                else:
                    state.posts.append(Post(self.path, dict(self.headers), json.loads(body)))
            self.send_response(500 if failing else 200)
            self.end_headers()
            self.wfile.write(b"try again" if failing else b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


CONFIG = """\
warehouse: duckdb:///warehouse.duckdb
timezone: UTC
sources:
  - name: pos
    landing: landing/pos
    pattern: "*.csv"
    formats: {{sold_at: "%Y-%m-%d %H:%M:%S"}}
alerts:
{channels}
  cooldown: 1h
  retries: 2
  backoff_seconds: 0.01
  timeout_seconds: 5
"""


def configure(project: Project, **channels: str) -> None:
    text = "\n".join(f"  {name}: {value}" for name, value in channels.items())
    project.write_config(CONFIG.format(channels=text))


@pytest.fixture
def alerted(
    project: Project,
    receiver: Receiver,
    mailbox: tuple[Mailbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> Project:
    """A project alerting to Slack and a webhook (warnings and up) and by mail (errors)."""
    monkeypatch.setenv("TEST_SLACK_URL", f"{receiver.url}/slack/T000/B000/secret")
    monkeypatch.setenv("TEST_HOOK_TOKEN", "Bearer s3cret")
    configure(
        project,
        slack="{webhook_url: env:TEST_SLACK_URL, min_severity: warning}",
        webhook=f"{{url: {receiver.url}/hook, headers: {{Authorization: env:TEST_HOOK_TOKEN}}}}",
        email=f"{{smtp_host: 127.0.0.1, port: {mailbox[1]}, starttls: false, "
        "from: sales@example.com, to: [ops@example.com, lead@example.com], min_severity: error}",
    )
    return project


def slack_text(payload: dict[str, Any]) -> str:
    return "\n".join(
        b["text"]["text"] for b in payload["blocks"] if b["type"] in ("header", "section")
    )


def changes(payload: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in payload["events"]:
        out.setdefault(e["change"], set()).add(e["kind"])
    return out


def deliveries(project: Project) -> list[tuple[str, str, int]]:
    with duckdb.connect(str(project.root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT channel, status, attempts FROM alert_deliveries ORDER BY sent_at, rowid"
        ).fetchall()
    return [(str(c), str(s), int(a)) for c, s, a in rows]


NO_TIME = [c for c in HEADER if c != "sold_at"]


def test_digest_cooldown_reminders_ack_and_recovery(
    alerted: Project, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    box = mailbox[0]
    alerted.write_csv("a.csv", [line("T1", 1), line("T2", 1)])
    alerted.run()
    assert receiver.posts == [] and box.messages == []  # nothing wrong, nothing sent

    alerted.write_csv("b.csv", [line("T3", 1)], header=NO_TIME)  # rejected: no sold_at
    alerted.run()
    [slack] = receiver.at("/slack/T000/B000/secret")
    assert slack["text"].startswith("salespipe: 2 new")
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "context"]
    text = slack_text(slack)
    assert "*New*" in text and "b.csv" in text and "'sold_at'" in text and "[error]" in text
    [hook] = receiver.at("/hook")
    assert hook["type"] == "salespipe.monitor.digest" and hook["status"] == "error"
    assert changes(hook) == {"new": {"error", "drift"}}
    assert {e["severity"] for e in hook["events"]} == {"error"}
    assert set(hook["events"][0]) >= {"id", "kind", "severity", "subject", "day", "message"}
    posted = [p for p in receiver.posts if p.path == "/hook"]
    assert posted[0].headers["Authorization"] == "Bearer s3cret"
    [mail] = box.messages
    assert mail["Subject"] == "[salespipe] 2 new"
    assert mail["To"] == "ops@example.com, lead@example.com"
    body = mail.get_content()
    assert "b.csv" in body and "salespipe monitor ack" in body

    config = load_config(str(alerted.config))
    # Still open, seen again: within the cooldown nothing is repeated.
    assert alerted.cli("monitor", "run").code == 0
    assert len(receiver.posts) == 2 and len(box.messages) == 1

    later = datetime.now(UTC) + timedelta(hours=2)
    monitor_now(config, now=later)
    reminder = receiver.at("/hook")[-1]
    assert changes(reminder) == {"reminder": {"error", "drift"}}
    assert "*Still open*" in slack_text(receiver.at("/slack/T000/B000/secret")[-1])
    assert len(box.messages) == 2

    ids = {e["kind"]: e["id"] for e in reminder["events"]}
    assert alerted.cli("monitor", "ack", str(ids["error"])).code == 0
    monitor_now(config, now=later + timedelta(hours=2))
    assert changes(receiver.at("/hook")[-1]) == {"reminder": {"drift"}}  # acked: no reminder

    (alerted.landing / "b.csv").unlink()
    alerted.write_csv("c.csv", [line("T4", 1, promo="X")], header=[*HEADER, "promo"])
    alerted.run()
    recovered = receiver.at("/hook")[-1]
    assert changes(recovered) == {"new": {"drift"}, "resolved": {"error", "drift"}}
    text = slack_text(receiver.at("/slack/T000/B000/secret")[-1])
    assert "*Resolved*" in text and "✅" in text and "promo" in text
    # Mail takes errors only: the two resolutions, not the new warning about 'promo'.
    last = box.messages[-1].get_content()
    assert box.messages[-1]["Subject"] == "[salespipe] 2 resolved" and "promo" not in last
    assert all(status == "sent" for _, status, _ in deliveries(alerted))


def test_snoozed_events_are_not_sent(alerted: Project, receiver: Receiver) -> None:
    alerted.write_csv("a.csv", [line("T1", 1)])
    alerted.run()
    alerted.write_csv("b.csv", [line("T2", 1, promo="X")], header=[*HEADER, "promo"])
    alerted.run()
    [event] = receiver.at("/hook")[-1]["events"]
    assert alerted.cli("monitor", "snooze", str(event["id"]), "--for", "1d").code == 0
    monitor_now(load_config(str(alerted.config)), now=datetime.now(UTC) + timedelta(hours=3))
    assert len(receiver.at("/hook")) == 1


def test_a_server_failing_first_gets_the_digest_on_a_retry(
    project: Project, receiver: Receiver
) -> None:
    configure(project, webhook=f"{{url: {receiver.url}/hook}}")
    receiver.failures["/hook"] = 2
    project.write_csv("a.csv", [line("T1", 1)])
    project.write_csv("b.csv", [line("T2", 1)], header=NO_TIME)
    assert project.run()["status"] == "failed"  # the rejected file, not the alerts
    assert len(receiver.at("/hook")) == 1
    assert deliveries(project) == [("webhook", "sent", 3)]


def test_a_channel_that_keeps_failing_never_fails_the_run(
    project: Project, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    configure(project, slack=f"{{webhook_url: {dead}}}")
    project.write_csv("a.csv", [line("T1", 1)])
    project.run()
    project.write_csv("b.csv", [line("T2", 1, promo="X")], header=[*HEADER, "promo"])
    with caplog.at_level("WARNING", logger="salespipe.alerts"):
        result = project.cli("run", "--json")
    assert result.code == 0 and result.json()["status"] == "ok"
    assert deliveries(project) == [("slack", "failed", 3)]
    assert "given up after 3 attempts" in caplog.text and "/nobody" not in caplog.text
    # Not marked as sent, so the next pass tries again.
    assert project.cli("monitor", "run").code == 0
    assert deliveries(project)[-1] == ("slack", "failed", 3)


def test_an_smtp_server_without_starttls_is_a_logged_failure(
    project: Project, mailbox: tuple[Mailbox, int]
) -> None:
    configure(
        project,
        email=f"{{smtp_host: 127.0.0.1, port: {mailbox[1]}, starttls: true, "
        "from: a@example.com, to: [b@example.com], min_severity: warning}",
    )
    project.write_csv("a.csv", [line("T1", 1)])
    project.run()
    project.write_csv("b.csv", [line("T2", 1, promo="X")], header=[*HEADER, "promo"])
    assert project.run()["status"] == "ok"
    assert deliveries(project) == [("email", "failed", 3)] and mailbox[0].messages == []
