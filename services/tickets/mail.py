"""E-mail through an outbox table: `enqueue` in the caller's transaction, `send_pending` later
(`flask --app portal notify send`). A mail server outage never blocks or loses the change.

Two ways out (`settings_from(config)` reads `MAIL_BACKEND`):

* "smtp" (the default): an SMTP server, `MAIL_HOST` etc.
* "folder" (the local demo): each message is written as an `.eml` file into `MAIL_FOLDER`, where
  the admin page 本地邮箱 (`read_folder`) shows it — a password-reset link can be followed without
  any mail server. In the web app such messages are delivered at the end of the request that
  queued them (portal/admin/mailbox.py); `enqueue` marks the session for that (`PENDING`).
"""
from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any, Mapping, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.core.transaction import atomic
from services.models import OutboxMessage

MAX_ATTEMPTS = 10
SMTP, FOLDER = "smtp", "folder"
BACKENDS = (SMTP, FOLDER)
#: `session.info` key set by `enqueue`: this session queued mail (the folder backend delivers it).
PENDING = "mail_pending"
SENDER_NAME = "澧县质量基础设施一站式服务平台"


@dataclass
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "noreply@localhost"
    sender_name: str = SENDER_NAME
    timeout: float = 10.0


@dataclass
class FolderSettings:
    """Write each message as an .eml file into `folder` instead of sending it."""

    folder: str
    sender: str = "noreply@localhost"
    sender_name: str = SENDER_NAME


Settings = SmtpSettings | FolderSettings


def settings_from(config: Mapping[str, Any]) -> Settings:
    """The delivery settings in an app's configuration (MAIL_BACKEND, MAIL_FOLDER, MAIL_HOST…)."""
    backend = str(config.get("MAIL_BACKEND") or SMTP).strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"MAIL_BACKEND 应为 {' 或 '.join(BACKENDS)}，而不是 {backend!r}")
    if backend == FOLDER:
        return FolderSettings(folder=str(config["MAIL_FOLDER"]), sender=config["MAIL_SENDER"])
    return SmtpSettings(host=config["MAIL_HOST"], port=int(config["MAIL_PORT"]), username=config["MAIL_USERNAME"],
                        password=config["MAIL_PASSWORD"], starttls=bool(config["MAIL_STARTTLS"]),
                        use_ssl=bool(config["MAIL_SSL"]), sender=config["MAIL_SENDER"])


def enqueue(session: Session, to_addr: str, subject: str, body: str) -> OutboxMessage:
    """Add a message to the outbox; it is sent only if the caller's transaction commits."""
    subject = " ".join(subject.split())[:200]  # a header is one line
    message = OutboxMessage(to_addr=to_addr, subject=subject, body=body)
    session.add(message)
    session.info[PENDING] = True
    return message


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _build(settings: Settings, row: OutboxMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((settings.sender_name, settings.sender))
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(_aware(row.created_at or utcnow()))
    msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}")
    msg.set_content(row.body)
    return msg


class _Transport(Protocol):
    def send(self, row: OutboxMessage, msg: EmailMessage) -> None: ...
    def close(self) -> None: ...


class _Smtp:
    def __init__(self, settings: SmtpSettings) -> None:
        if settings.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password)
        self.smtp = smtp

    def send(self, row: OutboxMessage, msg: EmailMessage) -> None:
        self.smtp.send_message(msg)

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass


class _Folder:
    def __init__(self, settings: FolderSettings) -> None:
        self.folder = Path(settings.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, row: OutboxMessage, msg: EmailMessage) -> None:
        stamp = _aware(row.created_at or utcnow()).astimezone(timezone.utc)
        name = f"{stamp:%Y%m%dT%H%M%SZ}-{row.id:07d}"
        if (self.folder / f"{name}.eml").exists():  # another database once used this folder
            name += "-" + secrets.token_hex(3)
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(msg.as_bytes(policy=policy.SMTP))
        os.replace(temporary, self.folder / f"{name}.eml")  # whole files only

    def close(self) -> None:
        pass


def _connect(settings: Settings) -> _Transport:
    return _Folder(settings) if isinstance(settings, FolderSettings) else _Smtp(settings)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    error: str = ""


def send_pending(session: Session, settings: Settings, limit: int = 200, after_id: int = 0) -> SendReport:
    """Send unsent messages (those with an id above `after_id`); failures stay in the outbox
    with the error for the next run."""
    report = SendReport()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.id > after_id,
                                                       OutboxMessage.attempts < MAX_ATTEMPTS)
                           .order_by(OutboxMessage.id).limit(limit)).all()
    if not rows:
        return report
    try:
        transport = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        where = settings.folder if isinstance(settings, FolderSettings) else f"{settings.host}:{settings.port}"
        error = f"无法连接邮件服务器 {where}：{exc}" if isinstance(settings, SmtpSettings) \
            else f"无法写入邮件文件夹 {where}：{exc}"
        with atomic(session):
            for row in rows:
                row.attempts += 1
                row.last_error = error[:1000]
        return SendReport(failed=len(rows), error=error)
    # A message sent by SMTP cannot be taken back: each outcome is kept as soon as it is known. A
    # file can be written again, so the folder keeps the whole batch in one commit.
    try:
        if isinstance(settings, SmtpSettings):
            for row in rows:
                with atomic(session):
                    _send_one(transport, settings, row, report)
        else:
            with atomic(session):
                for row in rows:
                    _send_one(transport, settings, row, report)
    finally:
        transport.close()
    return report


def _send_one(transport: _Transport, settings: Settings, row: OutboxMessage, report: SendReport) -> None:
    row.attempts += 1
    try:
        transport.send(row, _build(settings, row))
        row.sent_at = utcnow()
        row.last_error = ""
        report.sent += 1
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        # One bad message (refused address, malformed header) must not hold up the rest.
        row.last_error = str(exc)[:1000]
        report.failed += 1
        report.error = str(exc)


# --------------------------------------------------------------------------- the local mailbox
@dataclass
class StoredMail:
    """One message of the mail folder, as the 本地邮箱 page shows it."""

    name: str
    subject: str
    to_addr: str
    sender: str
    sent_at: datetime | None
    body: str


@dataclass
class FolderPage:
    items: list[StoredMail] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1


def _read(path: Path) -> StoredMail:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    try:
        sent_at: datetime | None = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    part = msg.get_body(preferencelist=("plain",))
    body = part.get_content() if isinstance(part, EmailMessage) else ""
    return StoredMail(name=path.name, subject=str(msg["Subject"] or ""), to_addr=str(msg["To"] or ""),
                      sender=str(msg["From"] or ""), sent_at=sent_at, body=str(body))


def _recipient(path: Path) -> str:
    with path.open("rb") as fh:
        return str(BytesParser(policy=policy.default).parse(fh, headersonly=True)["To"] or "")


def read_folder(folder: str, page: int = 1, per_page: int = 20, to: str | None = None) -> FolderPage:
    """The messages in the mail folder, newest first (file names start with the time queued);
    with `to`, only those whose recipient contains it."""
    root = Path(folder)
    paths = sorted((p for p in root.glob("*.eml") if p.is_file()), key=lambda p: p.name, reverse=True) \
        if root.is_dir() else []
    if to:
        wanted = to.lower()
        paths = [p for p in paths if wanted in _safe(_recipient, p, "").lower()]
    pages = max(1, -(-len(paths) // per_page))
    page = min(max(1, page), pages)
    items = [m for m in (_safe(_read, p, None) for p in paths[(page - 1) * per_page: page * per_page]) if m]
    return FolderPage(items=items, total=len(paths), page=page, pages=pages)


def _safe(read, path: Path, default):
    try:
        return read(path)
    except (OSError, ValueError, LookupError):  # removed meanwhile, or not a message we can read
        return default
