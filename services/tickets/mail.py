"""E-mail through an outbox table: `enqueue` in the caller's transaction, `send_pending` later
(`flask --app portal notify send`). A mail server outage never blocks or loses the change."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.core.transaction import atomic
from services.models import OutboxMessage

MAX_ATTEMPTS = 10


@dataclass
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "noreply@localhost"
    sender_name: str = "澧县质量基础设施一站式服务平台"
    timeout: float = 10.0


def enqueue(session: Session, to_addr: str, subject: str, body: str) -> OutboxMessage:
    """Add a message to the outbox; it is sent only if the caller's transaction commits."""
    subject = " ".join(subject.split())[:200]  # a header is one line
    message = OutboxMessage(to_addr=to_addr, subject=subject, body=body)
    session.add(message)
    return message


def _build(settings: SmtpSettings, row: OutboxMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((settings.sender_name, settings.sender))
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}")
    msg.set_content(row.body)
    return msg


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
    if settings.username:
        smtp.login(settings.username, settings.password)
    return smtp


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    error: str = ""


def send_pending(session: Session, settings: SmtpSettings, limit: int = 200) -> SendReport:
    """Send unsent messages; failures stay in the outbox with the error for the next run."""
    report = SendReport()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                                       OutboxMessage.attempts < MAX_ATTEMPTS)
                           .order_by(OutboxMessage.id).limit(limit)).all()
    if not rows:
        return report
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"无法连接邮件服务器 {settings.host}:{settings.port}：{exc}"
        with atomic(session):
            for row in rows:
                row.attempts += 1
                row.last_error = error[:1000]
        return SendReport(failed=len(rows), error=error)
    try:
        for row in rows:
            with atomic(session):  # each message's outcome is kept as soon as it is known
                row.attempts += 1
                try:
                    smtp.send_message(_build(settings, row))
                    row.sent_at = utcnow()
                    row.last_error = ""
                    report.sent += 1
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    # One bad message (refused address, malformed header) must not hold up the rest.
                    row.last_error = str(exc)[:1000]
                    report.failed += 1
                    report.error = str(exc)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return report
