"""Email: a plain-text digest over SMTP, STARTTLS and login when configured."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from salespipe.alerts.digest import CHANGES, TITLES, Digest
from salespipe.config.model import EmailAlert


def email_message(digest: Digest, settings: EmailAlert) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{settings.subject_prefix} {digest.summary()}".strip()
    message["From"] = settings.from_
    message["To"] = ", ".join(settings.to)
    message["Date"] = format_datetime(digest.generated_at)
    message["Message-ID"] = make_msgid(domain="salespipe")
    lines = [digest.title(), ""]
    for change in CHANGES:
        items = digest.group(change)
        if items:
            lines.append(f"{TITLES[change]}:")
            lines.extend(f"  {i.line()}" for i in items)
            lines.append("")
    lines.append(
        f"{digest.open_events} open event(s). See them: salespipe monitor list; "
        "acknowledge: salespipe monitor ack ID; snooze: salespipe monitor snooze ID --for 1d"
    )
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email(message: EmailMessage, settings: EmailAlert, timeout: float) -> None:
    """Raises OSError or smtplib.SMTPException when the server refuses."""
    with smtplib.SMTP(settings.smtp_host, settings.port, timeout=timeout) as smtp:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)
