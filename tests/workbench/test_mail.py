"""E-mail through the outbox, delivered to a real SMTP server (aiosmtpd on 127.0.0.1).

Notices are written in the same transaction as the change they report; `notify send` delivers
them later, survives a mail server outage without losing anything, and never sends twice.
`sla check` supervises overdue tickets and flags late acceptance exactly once.
"""
from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from portal.extensions import db
from services.accounts import users as accounts
from services.core import clock
from services.models import Notification, OutboxMessage, Ticket, TicketEvent
from services.requests import submission as reqsvc
from services.tickets import actions as ticketsvc
from services.tickets import mail, workflow
from tests.helpers import PASSWORD, USCC_A, USCC_B, csrf, csrf_from, free_port, login, make_enterprise, make_staff

SITE = "澧县质量基础设施一站式服务平台"


# --------------------------------------------------------------------------- a real SMTP server
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def body(self) -> str:
        return self.message.get_content()


@dataclass
class Collector:
    """aiosmtpd handler: keeps every message it is given."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.collector = Collector()
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.collector.messages

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_server(smtp_port):
    """Not started: tests that need it running call `.start()` (the outage test starts it late)."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def mail_app(app, smtp_port):
    """The app with its mail settings pointed at our local port."""
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=smtp_port, MAIL_USERNAME="", MAIL_PASSWORD="",
                      MAIL_STARTTLS=False, MAIL_SSL=False, MAIL_SENDER="noreply@lixian.example")
    return app


def notify_send(app):
    # Never called inside an app context: the command pushes its own and removes the scoped
    # session at teardown.
    return app.test_cli_runner().invoke(args=["notify", "send"])


def sla_check(app):
    return app.test_cli_runner().invoke(args=["sla", "check"])


# --------------------------------------------------------------------------- data helpers
def submit(app, username: str, idem: str = "") -> tuple[str, str]:
    """Enterprise submits JL-001 (metrology, routed to amr); returns (request number, ticket number)."""
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        sub = reqsvc.Submission(services=["JL-001"], attributes={"JL-001": {"capacity": 60, "mode": "lab"}},
                                description="地磅年检", idempotency_key=idem)
        req, _ = reqsvc.submit(db.session, user, sub, app.config["UPLOAD_DIR"])
        return req.number, req.tickets[0].number


def act(app, username: str, ticket: str, action: str, message: str = "") -> None:
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        ticketsvc.perform(db.session, user, ticket, ticketsvc.ActionInput(action=action, message=message),
                          upload_dir=app.config["UPLOAD_DIR"])


def email_of(app, username: str) -> str:
    with app.app_context():
        return accounts.get_by_username(db.session, username).email


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def notifications_for(app, username: str) -> list[Notification]:
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                       .order_by(Notification.id)))


def raw_subject(raw: bytes) -> str:
    """The Subject header exactly as it travelled (folded lines joined)."""
    match = re.search(rb"^Subject:(.*(?:\r?\n[ \t].*)*)", raw, re.MULTILINE | re.IGNORECASE)
    assert match, raw[:500]
    return re.sub(r"\r?\n", "", match.group(1).decode("ascii"))


def assert_utf8_chinese_subject(received: Received, expected_start: str) -> str:
    header = raw_subject(received.raw)
    # On the wire the header is 7-bit, RFC 2047 encoded as UTF-8 …
    chunks = decode_header(header)
    assert any(charset and charset.lower() in ("utf-8", "utf8") for _, charset in chunks), header
    decoded = str(make_header(chunks))
    # … and both decoders agree on the Chinese text.
    assert decoded == received.subject
    assert decoded.startswith(expected_start), decoded
    return decoded


@pytest.fixture
def people(app) -> dict[str, str]:
    """Usernames: enterprises A and B (each with its own address), an amr handler, a supervisor."""
    return {"a": make_enterprise(app, USCC_A, "澧县兰江食品有限公司", email="lanjiang@example.com"),
            "b": make_enterprise(app, USCC_B, "澧县澧水纺织有限公司", email="lishui@example.com",
                                 industry="textile", township="梦溪镇"),
            "amr": make_staff(app, "amr-h", "handler", "amr"),
            "sup": make_staff(app, "sup", "supervisor", None)}


@pytest.fixture
def bureau_lead(app) -> str:
    with app.app_context():
        return accounts.create_user(db.session, "amr-lead", "lead", PASSWORD, bureau="amr",
                                    email="amr-lead@example.com").username


# --------------------------------------------------------------------------- delivery
def test_accept_notifies_enterprise_and_notify_send_delivers_once(mail_app, smtp_server, people):
    app = mail_app
    number, ticket = submit(app, people["a"])
    assert outbox(app) == [], "a submission notifies staff in the app only, never by mail"
    notices_before = len(notifications_for(app, people["a"]))

    act(app, people["amr"], ticket, "accept")

    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == ticket))
        assert t.status == workflow.ACCEPTED and t.due_date is not None
        due = t.due_date.isoformat()
    notices = notifications_for(app, people["a"])[notices_before:]
    assert len(notices) == 1 and number in notices[0].message and "签收受理" in notices[0].message
    enterprise_email = email_of(app, people["a"])
    rows = outbox(app)
    assert [r.to_addr for r in rows] == [enterprise_email]
    assert rows[0].sent_at is None and rows[0].attempts == 0

    smtp_server.start()
    result = notify_send(app)
    assert result.exit_code == 0, result.output
    assert "已发送 1 封，失败 0 封" in result.output

    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    assert got.rcpt_tos == [enterprise_email]
    assert got.message["To"] == enterprise_email
    assert got.mail_from == "noreply@lixian.example"
    subject = assert_utf8_chinese_subject(got, f"{SITE}：您的申请 {number}")
    assert "县市场监管局" in subject
    assert SITE in str(got.message["From"])
    assert got.message.get_content_charset() == "utf-8"
    body = got.body
    assert f"申请编号：{number}" in body
    assert "签收受理" in body and due in body

    rows = outbox(app)
    assert all(r.sent_at is not None and r.attempts == 1 and r.last_error == "" for r in rows)

    again = notify_send(app)
    assert again.exit_code == 0, again.output
    assert "已发送 0 封" in again.output
    assert len(smtp_server.messages) == 1, "a sent message must never go out twice"


def test_notice_and_change_share_one_transaction(mail_app, people, monkeypatch):
    """If the outbox write fails, the ticket change and the in-app notice are rolled back with it;
    when it succeeds, exactly one commit carries all three."""
    app = mail_app
    number, ticket = submit(app, people["a"])
    notices_before = len(notifications_for(app, people["a"]))

    def broken_enqueue(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(mail, "enqueue", broken_enqueue)
    with pytest.raises(RuntimeError):
        act(app, people["amr"], ticket, "accept")
    with app.app_context():
        assert db.session.scalar(select(Ticket.status).where(Ticket.number == ticket)) == workflow.SUBMITTED
        assert not db.session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.kind == "accept"))
    assert len(notifications_for(app, people["a"])) == notices_before
    assert outbox(app) == []

    monkeypatch.undo()
    from sqlalchemy import event

    commits: list[tuple[str, int, int]] = []
    with app.app_context():
        session = db.session

        def snapshot(s):
            # Taken inside the transaction just before it commits.
            commits.append((s.scalar(select(Ticket.status).where(Ticket.number == ticket)),
                            s.scalar(select(func.count(Notification.id))),
                            s.scalar(select(func.count(OutboxMessage.id)))))

        event.listen(session, "before_commit", snapshot)
        try:
            user = accounts.get_by_username(session, people["amr"])
            commits.clear()
            ticketsvc.perform(session, user, ticket, ticketsvc.ActionInput(action="accept"),
                              upload_dir=app.config["UPLOAD_DIR"])
        finally:
            event.remove(session, "before_commit", snapshot)
    assert len(commits) == 1, commits
    status, notices_in_commit, queued = commits[0]
    assert status == workflow.ACCEPTED and queued == 1
    with app.app_context():
        assert notices_in_commit == db.session.scalar(select(func.count(Notification.id)))
    assert len(notifications_for(app, people["a"])) == notices_before + 1


def test_smtp_outage_keeps_the_change_and_retries_later(mail_app, smtp_server, people):
    app = mail_app
    number, ticket = submit(app, people["a"])
    # Nobody listens on smtp_port yet.
    act(app, people["amr"], ticket, "accept")
    with app.app_context():
        assert db.session.scalar(select(Ticket.status).where(Ticket.number == ticket)) == workflow.ACCEPTED
    assert len(outbox(app)) == 1

    result = notify_send(app)
    assert result.exit_code != 0, result.output
    assert "已发送 0 封，失败 1 封" in result.output
    assert "最后一个错误" in result.output and "refused" in result.output.lower(), result.output
    rows = outbox(app)
    assert len(rows) == 1
    assert rows[0].sent_at is None and rows[0].attempts == 1
    assert rows[0].last_error.startswith("无法连接邮件服务器")

    # The server comes back on the configured port: the waiting message goes out.
    smtp_server.start()
    result = notify_send(app)
    assert result.exit_code == 0, result.output
    assert "已发送 1 封，失败 0 封" in result.output
    assert [m.rcpt_tos for m in smtp_server.messages] == [[email_of(app, people["a"])]]
    assert f"申请编号：{number}" in smtp_server.messages[0].body
    row = outbox(app)[0]
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""


def test_password_reset_mail_is_delivered_and_its_link_works(mail_app, smtp_server, people):
    app = mail_app
    client = app.test_client()
    address = email_of(app, people["a"])

    # An unknown account: the same answer, and no mail (no hint whether the account exists).
    response = client.post("/account/reset", data={"login": "nobody-here",
                                                   "csrf_token": csrf(client, "/account/reset")})
    assert response.status_code == 302
    assert outbox(app) == []

    response = client.post("/account/reset", data={"login": people["a"],
                                                   "csrf_token": csrf(client, "/account/reset")})
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert [r.to_addr for r in outbox(app)] == [address]

    smtp_server.start()
    result = notify_send(app)
    assert result.exit_code == 0, result.output
    assert "已发送 1 封" in result.output
    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    assert got.rcpt_tos == [address]
    assert assert_utf8_chinese_subject(got, SITE) == f"{SITE}：重设密码"
    link = re.search(r"https?://\S+/account/reset/\S+", got.body)
    assert link, got.body

    # The link from the mail sets a new password once.
    path = urlsplit(link.group(0)).path
    page = client.get(path)
    assert page.status_code == 200
    new_password = "n3w-passw0rd-ok"
    response = client.post(path, data={"password": new_password, "confirm": new_password,
                                       "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login(app.test_client(), people["a"], new_password)
    reused = client.post(path, data={"password": "an0ther-pass", "confirm": "an0ther-pass",
                                     "csrf_token": csrf_from(client.get(path).data)})
    assert reused.status_code == 302 and "/account/reset" in reused.headers["Location"]


def test_multiline_notice_is_mailed_and_does_not_block_the_outbox(mail_app, smtp_server, people):
    app = mail_app
    number, ticket = submit(app, people["a"])
    act(app, people["amr"], ticket, "accept")
    act(app, people["amr"], ticket, "request_info", "1. 营业执照副本\n2. 检定证书复印件")
    act(app, people["amr"], ticket, "reply", "请在一周内补齐。")
    smtp_server.start()
    result = notify_send(app)
    assert result.exit_code == 0, (result.output, result.exception)
    assert len(smtp_server.messages) == 3
    assert all("\n" not in m.subject for m in smtp_server.messages)
    assert any("营业执照副本" in m.body and "检定证书复印件" in m.body for m in smtp_server.messages)
    assert all(r.sent_at is not None for r in outbox(app))


# --------------------------------------------------------------------------- sla check
def test_sla_check_supervises_overdue_and_flags_late_acceptance_once(mail_app, smtp_server, people,
                                                                    bureau_lead):
    app = mail_app
    _, overdue = submit(app, people["a"])
    act(app, people["amr"], overdue, "accept")
    _, unaccepted = submit(app, people["b"])
    with app.app_context():
        today = clock.local_today()
        t = db.session.scalar(select(Ticket).where(Ticket.number == overdue))
        t.accepted_at = t.accepted_at - timedelta(days=30)
        t.due_date = today - timedelta(days=3)
        u = db.session.scalar(select(Ticket).where(Ticket.number == unaccepted))
        u.accept_due = today - timedelta(days=2)
        db.session.commit()
        users = {name: accounts.get_by_username(db.session, name).id
                 for name in (people["sup"], bureau_lead, people["amr"])}
        outbox_before = db.session.scalar(select(func.count(OutboxMessage.id)))
        notes_before = {name: db.session.scalar(select(func.count(Notification.id))
                                                .where(Notification.user_id == uid))
                        for name, uid in users.items()}

    result = sla_check(app)
    assert result.exit_code == 0, result.output
    assert "督办超期办件 1 件，超过签收期限 1 件" in result.output
    assert f"督办：{overdue}" in result.output
    assert f"未按期签收：{unaccepted}" in result.output

    with app.app_context():
        s = db.session
        t = s.scalar(select(Ticket).where(Ticket.number == overdue))
        assert t.supervised_at is not None and t.status == workflow.ACCEPTED
        sup_events = list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                              TicketEvent.kind == "supervise")))
        assert len(sup_events) == 1 and not sup_events[0].public
        assert t.due_date.isoformat() in sup_events[0].message
        u = s.scalar(select(Ticket).where(Ticket.number == unaccepted))
        late = list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == u.id,
                                                        TicketEvent.kind == "late_acceptance")))
        assert len(late) == 1 and u.supervised_at is None

        def new_notes(name):
            rows = s.scalars(select(Notification).where(Notification.user_id == users[name])
                             .order_by(Notification.id)).all()
            return [n.message for n in rows[notes_before[name]:]]

        # Supervisor and bureau lead hear about both; the handler only about the late acceptance.
        for name in (people["sup"], bureau_lead):
            notes = new_notes(name)
            assert any(overdue in m and "督办" in m for m in notes), (name, notes)
            assert any(unaccepted in m and "签收" in m for m in notes), (name, notes)
        handler_notes = new_notes(people["amr"])
        assert not any(overdue in m for m in handler_notes), handler_notes
        assert any(unaccepted in m for m in handler_notes), handler_notes
        outbox_after = s.scalar(select(func.count(OutboxMessage.id)))
    assert outbox_after > outbox_before

    # The mails reach the supervisor and the lead.
    smtp_server.start()
    sent = notify_send(app)
    assert sent.exit_code == 0, sent.output
    by_rcpt: dict[str, list[str]] = {}
    for m in smtp_server.messages:
        for r in m.rcpt_tos:
            by_rcpt.setdefault(r, []).append(m.subject)
    sup_mail = email_of(app, people["sup"])
    lead_mail = email_of(app, bureau_lead)
    assert any(overdue in subj and "督办" in subj for subj in by_rcpt.get(sup_mail, [])), by_rcpt
    assert any(overdue in subj and "督办" in subj for subj in by_rcpt.get(lead_mail, [])), by_rcpt

    # A second run changes nothing.
    again = sla_check(app)
    assert again.exit_code == 0, again.output
    assert "督办超期办件 0 件，超过签收期限 0 件" in again.output
    assert overdue not in again.output and unaccepted not in again.output
    with app.app_context():
        s = db.session
        assert s.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.kind == "supervise")) == 1
        assert s.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.kind == "late_acceptance")) == 1
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))) == 0
    assert notify_send(app).exit_code == 0
