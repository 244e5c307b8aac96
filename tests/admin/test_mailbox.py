"""本地邮箱: with MAIL_BACKEND = "folder" outgoing mail is written as .eml files into MAIL_FOLDER at the
end of the request that queued it, and admins read it at /admin/mailbox (links clickable, text escaped)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import OutboxMessage
from services.tickets import mail
from tests.helpers import USCC_A, csrf, login, make_enterprise, make_staff, soup


@pytest.fixture
def folder_app(app, tmp_path):
    app.config.update(MAIL_BACKEND="folder", MAIL_FOLDER=str(tmp_path / "mail"))
    return app


def mails(app) -> list[Path]:
    return sorted(Path(app.config["MAIL_FOLDER"]).glob("*.eml"))


def test_a_reset_link_arrives_in_the_folder_at_once_and_the_admin_can_follow_it(folder_app):
    app = folder_app
    make_enterprise(app)
    make_staff(app, "adm", "admin", None)
    visitor = app.test_client()
    response = visitor.post("/account/reset", data={"login": USCC_A, "csrf_token": csrf(visitor, "/account/reset")})
    assert response.status_code == 302
    # Delivered by the request itself: no `notify send`, no mail server.
    assert len(mails(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)).sent_at is not None

    admin = app.test_client()
    login(admin, "adm")
    page = soup(admin.get("/admin/mailbox"))
    item = page.select_one(".mail-item")
    assert "重设密码" in item.select_one(".mail-subject").get_text()
    assert "lihua@example.com" in item.select_one(".mail-meta").get_text()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", item.select_one(".mail-meta").get_text())
    link = item.select_one(".mail-body a")["href"]
    assert "/account/reset/" in link
    # The link in the body is the working reset link.
    path = link.split("localhost", 1)[1]
    response = visitor.post(path, data={"password": "newpassw0rd", "confirm": "newpassw0rd",
                                        "csrf_token": csrf(visitor, path)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
    login(visitor, USCC_A, "newpassw0rd")
    assert page.select_one(".admin-nav a[aria-current=page]").get_text() == "本地邮箱"


def test_hostile_subject_and_body_are_shown_as_text(folder_app):
    app = folder_app
    make_staff(app, "adm", "admin", None)
    with app.app_context():
        mail.enqueue(db.session, "x@example.com", '<script>alert("s")</script>主题',
                     '正文<img src=x onerror=alert(1)> 链接 javascript:alert(2) 和 https://example.com/a?b=1&c=<b>2</b>')
        db.session.commit()
        report = mail.send_pending(db.session, mail.settings_from(app.config))
        assert report.sent == 1
    client = app.test_client()
    login(client, "adm")
    response = client.get("/admin/mailbox")
    html = response.data.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>2</b>" not in html
    assert "&lt;script&gt;alert" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    item = soup(response).select_one(".mail-item")
    assert item.select_one(".mail-subject").get_text() == '<script>alert("s")</script>主题'
    # Only the http(s) address is a link, cut at the first character that cannot be in one.
    assert [a["href"] for a in item.select(".mail-body a")] == ["https://example.com/a?b=1&c="]


def test_only_admins_see_the_mailbox(folder_app):
    app = folder_app
    make_enterprise(app)
    make_staff(app, "amr-h1", "handler", "amr")
    make_staff(app, "amr-lead1", "lead", "amr")
    assert app.test_client().get("/admin/mailbox").status_code == 302  # to the login page
    for username in (USCC_A, "amr-h1", "amr-lead1"):
        client = app.test_client()
        login(client, username)
        assert client.get("/admin/mailbox").status_code == 403


def test_recipient_filter_and_pages(folder_app):
    app = folder_app
    make_staff(app, "adm", "admin", None)
    with app.app_context():
        for n in range(25):
            mail.enqueue(db.session, f"user{n % 2}@example.com", f"通知 {n}", "正文")
        db.session.commit()
        mail.send_pending(db.session, mail.settings_from(app.config))
    client = app.test_client()
    login(client, "adm")
    first = soup(client.get("/admin/mailbox"))
    assert "共 25 封" in first.select_one(".result-count").get_text()
    assert len(first.select(".mail-item")) == 20
    assert first.select_one(".mail-subject").get_text() == "通知 24"  # newest first
    assert len(soup(client.get("/admin/mailbox?page=2")).select(".mail-item")) == 5
    only = soup(client.get("/admin/mailbox?to=user1@"))
    assert "共 12 封" in only.select_one(".result-count").get_text()


def test_smtp_backend_leaves_mail_queued_and_the_page_says_so(app, tmp_path):
    app.config.update(MAIL_FOLDER=str(tmp_path / "mail"))  # MAIL_BACKEND stays "smtp"
    make_enterprise(app)
    make_staff(app, "adm", "admin", None)
    visitor = app.test_client()
    visitor.post("/account/reset", data={"login": USCC_A, "csrf_token": csrf(visitor, "/account/reset")})
    assert mails(app) == []
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)).sent_at is None
    client = app.test_client()
    login(client, "adm")
    page = soup(client.get("/admin/mailbox"))
    assert "不会出现在这里" in page.select_one(".hint").get_text()
    assert page.select_one(".empty").get_text() == "没有邮件。"


def test_notify_send_writes_to_the_folder(folder_app):
    app = folder_app
    with app.app_context():
        mail.enqueue(db.session, "x@example.com", "主题", "正文")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["notify", "send"])
    assert result.exit_code == 0 and "已发送 1 封" in result.output
    [path] = mails(app)
    assert "主题" in mail.read_folder(app.config["MAIL_FOLDER"]).items[0].subject
    assert path.name.endswith(".eml")


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError):
        mail.settings_from({"MAIL_BACKEND": "pigeon"})
