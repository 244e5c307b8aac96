"""Issue 12, item 5 — hostile text: bidi overrides, zero-width characters, NUL and full-width
digits sent through the pages and the API are cleaned (or refused) before anything is stored,
and the Open311 XML stays well-formed for texts stored before the cleaning existed."""
from __future__ import annotations

import io
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from services.models import Attachment, Enterprise, Request, TicketEvent, User
from tests.helpers import PASSWORD, USCC_A, csrf, csrf_from, login, soup, token_for
from tests.open311.helpers import BASE, submit_ok, xml_of

RLO = "\u202e"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def register_data(client, **overrides):
    data = {"company": "澧县兰江食品有限公司", "uscc": USCC_A, "contact_name": "李华", "mobile": "13907361234",
            "email": "lihua@example.com", "township": "澧阳街道", "industry": "food", "size": "small",
            "password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf(client, "/account/register")}
    data.update(overrides)
    return data


def auth(app, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, username)}"}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- registration
def test_registration_strips_bidi_and_zero_width_and_stores_ascii_mobile(app, client):
    response = client.post("/account/register", data=register_data(
        client, company=f"澧县{RLO}兰江{ZERO_WIDTH}食品（有限）公司{BIDI}", contact_name=f" 李{ZERO_WIDTH}华\t ",
        mobile="１３９０７３６１２３４", email="ｌｉｈｕａ＠ｅｘａｍｐｌｅ．ｃｏｍ"))
    assert response.status_code == 302, response.data.decode()[:800]
    page = soup(client.get("/my/requests"))
    assert "澧县兰江食品（有限）公司" in page.select_one(".account-bar").get_text()
    with app.app_context():
        e = db.session.scalar(select(Enterprise))
        # Full-width Chinese punctuation is kept (NFC, not NFKC), the invisible characters are gone.
        assert e.name == "澧县兰江食品（有限）公司"
        assert e.contact_name == "李华"
        assert e.mobile == "13907361234"
        assert e.email == "lihua@example.com"


def test_registration_with_nul_is_refused_with_a_message_and_nothing_is_written(app, client):
    response = client.post("/account/register", data=register_data(client, company="澧县兰江\x00食品有限公司"))
    assert response.status_code == 422
    error = soup(response).select_one("#company-err")
    assert error is not None and "空字符" in error.get_text()
    assert count(app, Enterprise) == 0 and count(app, User) == 0


# --------------------------------------------------------------------------- requests
def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def apply_with_files(client, files, **fields):
    response = client.get("/apply?services=JL-002")
    assert response.status_code == 200
    page = soup(response)
    data = {"services": "JL-002", "f_instrument": "压力表", "contact_name": "李华", "contact_mobile": "13907361234",
            "csrf_token": csrf_from(response.data),
            "idempotency_key": page.select_one("input[name=idempotency_key]")["value"], **fields}
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/apply/confirm", data=data, content_type="multipart/form-data")


def test_file_name_with_rtl_override_is_cleaned_in_the_page_and_the_download(app, client, people):
    login(client, people["a"])
    response = apply_with_files(client, [(f"invoice{RLO}fdp.docx.pdf", pdf_bytes()),
                                         (f"申请{ZERO_WIDTH}书{RLO}.docx", docx_bytes())])
    assert response.status_code == 302, response.data.decode()[:800]
    detail = soup(client.get(response.headers["Location"]))
    assert [a.get_text() for a in detail.select(".attachments a")] == ["invoicefdp.docx.pdf", "申请书.docx"]
    with app.app_context():
        names = {a.original_name: a.id for a in db.session.scalars(select(Attachment))}
    assert set(names) == {"invoicefdp.docx.pdf", "申请书.docx"}
    for name, attachment_id in names.items():
        download = client.get(f"/attachments/{attachment_id}")
        assert download.status_code == 200
        disposition = download.headers["Content-Disposition"]
        assert RLO not in unquote(disposition) and "%E2%80%AE" not in disposition.upper()
        assert name in unquote(disposition)


def test_zero_width_and_bidi_in_description_and_fields_are_removed(app, client, people):
    body = {"services": ["JL-002"], "description": f"地磅{ZERO_WIDTH}年检，\r\n第二行{RLO}说明：１２３",
            "contact_name": f"王{RLO}强", "contact_mobile": "１３９０７３６５６７８",
            "attributes": {"JL-002": {"instrument": f"压力{ZERO_WIDTH}表{BIDI}", "note": f"备注\r\n{RLO}第二行"}}}
    response = client.post("/api/v1/requests", json=body, headers=auth(app, people["a"]))
    assert response.status_code == 201, response.get_json()
    # Chinese punctuation and full-width digits in free text stay as typed; line breaks become \n.
    assert response.get_json()["description"] == "地磅年检，\n第二行说明：１２３"
    with app.app_context():
        req = db.session.scalar(select(Request))
        assert (req.contact_name, req.contact_mobile) == ("王强", "13907365678")
        assert req.items[0].attributes == {"instrument": "压力表", "note": "备注\n第二行"}


@pytest.mark.parametrize("field", ["description", "contact_name", "contact_mobile"])
def test_nul_in_a_request_is_refused_and_nothing_is_written(app, client, people, field):
    body = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "压力表"}}, field: "地磅\x00年检说明"}
    response = client.post("/api/v1/requests", json=body, headers=auth(app, people["a"]))
    assert response.status_code == 422
    assert "空字符" in response.get_json()["error"]["fields"][field]
    assert count(app, Request) == 0


def test_nul_in_a_request_field_is_refused(app, client, people):
    body = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "压力\x00表"}}}
    response = client.post("/api/v1/requests", json=body, headers=auth(app, people["a"]))
    assert response.status_code == 422
    assert "空字符" in response.get_json()["error"]["fields"]["attributes.JL-002.instrument"]
    assert count(app, Request) == 0


def test_staff_message_with_nul_is_refused_and_invisible_characters_removed(app, client, people):
    body = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "压力表"}}}
    number = client.post("/api/v1/requests", json=body,
                         headers=auth(app, people["a"])).get_json()["tickets"][0]["number"]
    headers = auth(app, people["amr"])
    refused = client.post(f"/api/v1/tickets/{number}/actions", headers=headers,
                          json={"action": "accept", "message": "已签收\x00"})
    assert refused.status_code == 422
    assert "空字符" in refused.get_json()["error"]["fields"]["message"]
    events = count(app, TicketEvent)
    accepted = client.post(f"/api/v1/tickets/{number}/actions", headers=headers,
                           json={"action": "accept", "message": f"已签收{RLO}，请等待{ZERO_WIDTH}"})
    assert accepted.status_code == 200, accepted.get_json()
    with app.app_context():
        messages = [e.message for e in db.session.scalars(select(TicketEvent).order_by(TicketEvent.id))]
    assert len(messages) == events + 1 and messages[-1] == "已签收，请等待"


# --------------------------------------------------------------------------- Open311 XML
def test_open311_xml_stays_well_formed_for_stored_control_characters(app, client, people):
    key = token_for(app, people["a"])
    number = submit_ok(client, key)
    with app.app_context():
        req = db.session.scalar(select(Request).where(Request.number == number))
        # Old data, written before the cleaning: PostgreSQL cannot store NUL at all, SQLite can.
        nul = "\x00" if db.engine.dialect.name == "sqlite" else ""
        req.description = f"旧数据{nul}描述\x0b第二段\x1f{RLO}"
        db.session.commit()
    one = client.get(f"{BASE}/requests/{number}.xml", query_string={"api_key": key})
    assert one.status_code == 200
    root = xml_of(one)  # parses
    assert root.findtext("request/description") == f"旧数据描述第二段{RLO}"
    listing = client.get(f"{BASE}/requests.xml", query_string={"api_key": key})
    assert listing.status_code == 200
    numbers = [r.findtext("service_request_id") for r in ET.fromstring(listing.data).findall("request")]
    assert number in numbers


def test_info_answer_with_nul_is_refused_and_nothing_is_written(app, client, people):
    from services.accounts import users as accounts
    from services.core.errors import ValidationFailed
    from services.requests import actions as request_actions

    body = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "压力表"}}}
    created = client.post("/api/v1/requests", json=body, headers=auth(app, people["a"])).get_json()
    number, ticket = created["number"], created["tickets"][0]["number"]
    headers = auth(app, people["amr"])
    for action in ({"action": "accept"}, {"action": "request_info", "message": "请补充检定证书"}):
        assert client.post(f"/api/v1/tickets/{ticket}/actions", headers=headers, json=action).status_code == 200
    events = count(app, TicketEvent)
    with app.app_context():
        user = accounts.get_by_username(db.session, people["a"])
        with pytest.raises(ValidationFailed) as refused:
            request_actions.provide_info(db.session, user, number, ticket, "已补充\x00", [], app.config["UPLOAD_DIR"])
        assert "空字符" in str(refused.value.fields["message"])
    assert count(app, TicketEvent) == events
    with app.app_context():
        user = accounts.get_by_username(db.session, people["a"])
        request_actions.provide_info(db.session, user, number, ticket, f"已补充{RLO}证书{ZERO_WIDTH}", [],
                                     app.config["UPLOAD_DIR"])
        last = db.session.scalar(select(TicketEvent).order_by(TicketEvent.id.desc()).limit(1))
        assert last.message == "已补充证书"
