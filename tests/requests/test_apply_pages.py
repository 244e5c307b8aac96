"""Applying through the pages: form, preview, confirm, bundles, idempotency, uploads."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from services.models import Attachment, Request, Ticket
from tests.helpers import csrf_from, login, soup

JL001 = {"services": "JL-001", "f_capacity": "60", "f_mode": "onsite", "f_preferred_date": "2026-12-10",
         "contact_name": "李华", "contact_mobile": "13907361234"}


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def open_form(client, url="/apply?services=JL-001"):
    response = client.get(url)
    assert response.status_code == 200, response.data[:500]
    page = soup(response)
    return page, {"csrf_token": csrf_from(response.data),
                  "idempotency_key": page.select_one("input[name=idempotency_key]")["value"]}


def preview(client, data):
    return client.post("/apply", data=data)


def confirm(client, data, files=None):
    payload = dict(data)
    if files:
        payload["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/apply/confirm", data=payload, content_type="multipart/form-data")


def counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(Request.id))), db.session.scalar(select(func.count(Ticket.id))),
                db.session.scalar(select(func.count(Attachment.id))))


def upload_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def test_anonymous_apply_goes_to_login(client):
    response = client.get("/apply?services=JL-001")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_form_is_built_from_request_fields_and_prefilled(app, client, people):
    login(client, people["a"])
    page, _ = open_form(client)
    assert page.select_one("input[name=f_capacity]")["inputmode"] == "decimal"
    assert [i["value"] for i in page.select("input[name=f_mode]")] == ["onsite", "lab"]
    assert page.select_one("input[name=f_preferred_date]")["type"] == "date"
    assert page.select_one("input[name=contact_name]")["value"] == "李华"
    assert page.select_one("label[for=f_capacity]").get_text() == "最大秤量（吨）"


def test_preview_then_confirm_creates_one_request_routed_to_amr(app, client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    data = {**JL001, **tokens}
    page = soup(preview(client, data))
    assert "送 澧县市场监督管理局 办理" in page.get_text()
    assert "现场检定" in page.get_text()  # the list value is shown by its name
    data["csrf_token"] = csrf_from(str(page))
    response = confirm(client, data, [("营业执照.pdf", pdf_bytes()), ("申请书.docx", docx_bytes())])
    assert response.status_code == 302
    detail = soup(client.get(response.headers["Location"]))
    assert "已提交，待签收" in detail.get_text()
    assert [a.get_text() for a in detail.select(".attachments a")] == ["营业执照.pdf", "申请书.docx"]
    assert "分办依据" not in detail.get_text()  # routing reasons are for staff
    with app.app_context():
        req = db.session.scalar(select(Request))
        assert [t.bureau.code for t in req.tickets] == ["amr"]
        assert req.items[0].attributes == {"capacity": 60, "mode": "onsite", "preferred_date": "2026-12-10"}
        assert "默认" in req.tickets[0].routing_reason
    assert len(upload_files(app)) == 2


def test_double_submit_creates_one_request(app, client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    data = {**JL001, **tokens}
    first = confirm(client, data)
    data["csrf_token"] = csrf_from(client.get("/my/requests").data)
    second = confirm(client, data)
    assert first.headers["Location"] == second.headers["Location"]
    assert counts(app)[0] == 1
    assert "不会重复提交" in soup(client.get(second.headers["Location"])).get_text()


@pytest.mark.parametrize("change,message", [
    ({"f_capacity": "很多"}, "应为数字"),
    ({"f_capacity": ""}, "必填"),
    ({"f_mode": "teleport"}, "请从列表中选择"),
    ({"f_preferred_date": "明天"}, "应为日期"),
    ({"contact_mobile": "12345"}, "手机"),
])
def test_bad_values_are_refused_with_the_field_named(app, client, people, change, message):
    login(client, people["a"])
    _, tokens = open_form(client)
    response = preview(client, {**JL001, **tokens, **change})
    assert response.status_code == 422
    assert message in soup(response).select_one(".form-error-summary").get_text()
    response = confirm(client, {**JL001, **tokens, **change, "csrf_token": tokens["csrf_token"]})
    assert response.status_code == 422
    assert counts(app) == (0, 0, 0)


def test_offline_or_unknown_services_cannot_be_applied_for(client, people):
    login(client, people["a"])
    assert client.get("/apply?services=ZL-002").status_code == 422
    assert "窗口办理" in soup(client.get("/apply?services=ZL-002")).get_text()
    assert client.get("/apply?services=NOPE").status_code == 422
    assert client.get("/apply?bundle=nope").status_code == 404


def test_staff_cannot_apply(client, people):
    login(client, people["amr"])
    assert client.get("/apply?services=JL-001").status_code == 403


@pytest.mark.parametrize("name,content,status,message", [
    ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, 422, "文件内容不是 PDF"),
    ("photo.png", pdf_bytes(), 422, "与扩展名"),
    ("big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 10), 413, "超过 10 MB"),
    ("empty.pdf", b"", 422, "空文件"),
    ("page.html", b"<html><script>alert(1)</script></html>", 422, "不是允许的文件类型"),
    ("fake.docx", b"PK\x03\x04garbage", 422, "文件内容不是 Word（.docx）"),
])
def test_upload_attacks_are_refused_and_nothing_is_stored(app, client, people, name, content, status, message):
    login(client, people["a"])
    _, tokens = open_form(client)
    response = confirm(client, {**JL001, **tokens}, [("ok.pdf", pdf_bytes()), (name, content)])
    assert response.status_code == status
    assert message in soup(response).select_one("#attachments-err").get_text()
    assert counts(app) == (0, 0, 0)
    assert upload_files(app) == []


def test_too_many_megabytes_in_total(app, client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    chunk = b"%PDF-1.4\n" + b"0" * (9 * 1024 * 1024)
    response = confirm(client, {**JL001, **tokens}, [(f"f{i}.pdf", chunk) for i in range(4)])
    assert response.status_code == 413
    assert counts(app) == (0, 0, 0) and upload_files(app) == []


def test_path_traversal_file_names_are_defused(app, client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    response = confirm(client, {**JL001, **tokens}, [("../../../etc/passwd.pdf", pdf_bytes()),
                                                    ("..\\..\\boot.ini.pdf", pdf_bytes())])
    assert response.status_code == 302
    with app.app_context():
        names = [a.original_name for a in db.session.scalars(select(Attachment))]
        stored = [a.stored_name for a in db.session.scalars(select(Attachment))]
    assert names == ["passwd.pdf", "boot.ini.pdf"]
    assert all(len(s) == 32 for s in stored)
    assert [p.name for p in upload_files(app)] == sorted(stored)


def test_script_tags_in_text_are_stored_and_shown_escaped(app, client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    evil = "<script>alert('x')</script>"
    response = confirm(client, {**JL001, **tokens, "description": evil})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert evil not in body and "&lt;script&gt;" in body
    with app.app_context():
        assert db.session.scalar(select(Request)).description == evil


def test_bundle_fans_out_to_one_ticket_per_bureau_and_asks_shared_fields_once(app, client, people):
    login(client, people["a"])
    page, tokens = open_form(client, "/apply?bundle=new-product")
    assert "新产品上市" in page.h1.get_text()
    response = confirm(client, {"bundle": "new-product", **tokens, "contact_name": "李华",
                                "contact_mobile": "13907361234"})
    assert response.status_code == 302
    with app.app_context():
        req = db.session.scalar(select(Request))
        assert req.kind == "bundle" and req.bundle.code == "new-product"
        tickets = {t.bureau.code: sorted(i.service.code for i in t.items) for t in req.tickets}
        assert tickets == {"amr": ["JC-001", "ZC-001"], "agri": ["RZ-001"]}
        assert req.status == "submitted"


def test_free_multi_select_of_services(app, client, people):
    login(client, people["a"])
    page, tokens = open_form(client, "/apply?services=JL-001&services=JL-002")
    # both services ask their own fields; nothing is shared, so each appears once
    assert page.select_one("input[name=f_capacity]") and page.select_one("input[name=f_instrument]")
    response = confirm(client, {**JL001, **tokens, "services": ["JL-001", "JL-002"], "f_instrument": "电子秤",
                                "f_items": ["scale", "pump"]})
    assert response.status_code == 302
    with app.app_context():
        req = db.session.scalar(select(Request))
        assert req.kind == "bundle" and len(req.tickets) == 1
        assert {i.service.code: i.attributes for i in req.items}["JL-002"] == {"instrument": "电子秤",
                                                                                 "items": ["scale", "pump"]}


def test_routing_rule_sends_matching_request_elsewhere_with_reason(app, client, people):
    login(client, people["a"])
    _, tokens = open_form(client, "/apply?services=JC-001")
    response = confirm(client, {"services": "JC-001", **tokens, "description": "蔬菜农残超标，想做检测",
                                "contact_name": "李华", "contact_mobile": "13907361234"})
    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.bureau.code == "agri" and "农残检测归农业农村局" in ticket.routing_reason
    client.post("/account/logout", data={"csrf_token": csrf_from(client.get("/my/requests").data)})
    login(client, people["agri"])
    page = soup(client.get(response.headers["Location"]))
    assert "农残检测归农业农村局" in page.select_one(".routing-reason").get_text()


def test_failure_while_writing_rolls_back_request_and_files(app, client, people, monkeypatch):
    from services.requests import submission as reqsvc

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    login(client, people["a"])
    _, tokens = open_form(client)
    monkeypatch.setattr(reqsvc, "_write", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = confirm(client, {**JL001, **tokens}, [("a.pdf", pdf_bytes())])
    assert response.status_code == 500
    assert counts(app) == (0, 0, 0) and upload_files(app) == []
