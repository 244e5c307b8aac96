"""Who sees what: anonymous, enterprise A, enterprise B, staff of the routed bureau, staff of another
bureau, the supervisor — over every request page, attachment and API endpoint."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts.users import get_by_username
from services.models import Attachment, Request, Ticket
from services.requests import submission as reqsvc
from services.requests import uploads
from services.tickets import workflow
from tests.helpers import csrf, csrf_from, login, soup, token_for


@pytest.fixture
def submitted(app, people):
    """Enterprise A's request for JL-001 (routed to amr) with one PDF attachment."""
    with app.app_context():
        user = get_by_username(db.session, people["a"])
        sub = reqsvc.Submission(services=["JL-001"], attributes={"JL-001": {"capacity": 60, "mode": "lab"}},
                                description="地磅年检", files=[uploads.Incoming("执照.pdf", io.BytesIO(b"%PDF-1.4 x"))])
        req, _ = reqsvc.submit(db.session, user, sub, app.config["UPLOAD_DIR"])
        attachment_id = db.session.scalar(select(Attachment.id))
        return {"number": req.number, "code": req.query_code, "attachment": attachment_id,
                "ticket": req.tickets[0].number}


# who -> expected status for the request page, the attachment, and the API read
MATRIX = {
    None: (302, 302, 401),
    "a": (200, 200, 200),
    "b": (404, 404, 404),
    "amr": (200, 200, 200),
    "agri": (404, 404, 404),
    "sup": (200, 200, 200),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_request_visibility_matrix(app, client, people, submitted, who):
    page_status, file_status, api_status = MATRIX[who]
    headers = {}
    if who:
        login(client, people[who])
        headers = {"Authorization": f"Bearer {token_for(app, people[who])}"}
    assert client.get(f"/requests/{submitted['number']}").status_code == page_status
    assert client.get(f"/attachments/{submitted['attachment']}").status_code == file_status
    api = app.test_client().get(f"/api/v1/requests/{submitted['number']}", headers=headers)
    assert api.status_code == api_status
    if api_status == 404:
        assert api.get_json()["error"]["code"] == "not_found"


def test_attachment_is_served_safely_to_its_owner(app, client, people, submitted):
    login(client, people["a"])
    response = client.get(f"/attachments/{submitted['attachment']}")
    assert response.data == b"%PDF-1.4 x" and response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_enterprise_b_cannot_act_on_a_request(app, client, people, submitted):
    login(client, people["b"])
    token = csrf(client, "/my/requests")
    assert client.post(f"/requests/{submitted['number']}/withdraw", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/requests/{submitted['number']}/tickets/{submitted['ticket']}/info",
                           data={"csrf_token": token, "message": "x"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Request)).status == workflow.SUBMITTED


def test_staff_cannot_withdraw(client, people, submitted):
    login(client, people["amr"])
    token = csrf(client, "/account/profile")
    assert client.post(f"/requests/{submitted['number']}/withdraw", data={"csrf_token": token}).status_code == 403


def test_my_requests_lists_only_my_own(app, client, people, submitted):
    login(client, people["b"])
    assert soup(client.get("/my/requests")).select(".request-card") == []
    client.post("/account/logout", data={"csrf_token": csrf(client, "/my/requests")})
    login(client, people["a"])
    cards = soup(client.get("/my/requests")).select(".request-card")
    assert len(cards) == 1 and submitted["number"] in cards[0].get_text()
    assert soup(client.get("/my/requests?status=completed")).select(".request-card") == []
    assert len(soup(client.get("/my/requests?status=submitted")).select(".request-card")) == 1


def test_staff_see_routing_reason_and_internal_events(client, people, submitted):
    login(client, people["amr"])
    page = soup(client.get(f"/requests/{submitted['number']}"))
    assert "默认" in page.select_one(".routing-reason").get_text()
    assert page.select(".event-internal")


def test_withdraw_before_acceptance_only(app, client, people, submitted):
    login(client, people["a"])
    page = soup(client.get(f"/requests/{submitted['number']}"))
    assert page.select_one(".danger-zone form")
    response = client.post(f"/requests/{submitted['number']}/withdraw",
                           data={"csrf_token": csrf_from(str(page)), "reason": "填错了"})
    assert response.status_code == 302
    page = soup(client.get(f"/requests/{submitted['number']}"))
    assert "已撤回" in page.h1.get_text() and "填错了" in page.select_one(".timeline").get_text()
    response = client.post(f"/requests/{submitted['number']}/withdraw", data={"csrf_token": csrf_from(str(page))})
    assert response.status_code == 409


def test_withdraw_refused_once_accepted(app, client, people, submitted):
    with app.app_context():
        db.session.scalar(select(Ticket)).status = workflow.ACCEPTED
        db.session.commit()
    login(client, people["a"])
    page = soup(client.get(f"/requests/{submitted['number']}"))
    assert page.select_one(".danger-zone") is None
    response = client.post(f"/requests/{submitted['number']}/withdraw", data={"csrf_token": csrf_from(str(page))})
    assert response.status_code == 409
    assert "不能再撤回" in soup(response).get_text()


def test_answering_a_request_for_more_material(app, client, people, submitted):
    with app.app_context():
        db.session.scalar(select(Ticket)).status = workflow.NEED_INFO
        req = db.session.scalar(select(Request))
        req.status = workflow.NEED_INFO
        db.session.commit()
    login(client, people["a"])
    page = soup(client.get(f"/requests/{submitted['number']}"))
    form = page.select_one(".info-form")
    url = form["action"]
    response = client.post(url, data={"csrf_token": csrf_from(str(page)), "message": "补充检定证书",
                                      "attachments": [(io.BytesIO(b"\x89PNG\r\n\x1a\nxxxx"), "证书.png")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    page = soup(client.get(f"/requests/{submitted['number']}"))
    assert "办理中" in page.h1.get_text()
    assert "证书.png" in [a.get_text() for a in page.select(".attachments a")]
    assert "补充检定证书" in page.select_one(".timeline").get_text()
    # Not needed any more: a second answer is refused.
    response = client.post(url, data={"csrf_token": csrf_from(str(page)), "message": "再补一次"})
    assert response.status_code == 409


def test_info_answer_with_a_disguised_file_is_refused(app, client, people, submitted):
    with app.app_context():
        db.session.scalar(select(Ticket)).status = workflow.NEED_INFO
        db.session.commit()
    login(client, people["a"])
    page = soup(client.get(f"/requests/{submitted['number']}"))
    response = client.post(page.select_one(".info-form")["action"], data={
        "csrf_token": csrf_from(str(page)), "message": "",
        "attachments": [(io.BytesIO(b"MZ\x90\x00" * 50), "scan.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "文件内容不是 PDF" in soup(response).select_one(".info-form .field-error").get_text()
    with app.app_context():
        assert db.session.scalar(select(Ticket)).status == workflow.NEED_INFO


def test_public_progress_lookup(client, submitted):
    token = csrf(client, "/progress")
    response = client.post("/progress", data={"csrf_token": token, "number": submitted["number"].lower(),
                                              "query_code": submitted["code"].lower()})
    assert response.status_code == 200
    result = soup(response).select_one(".progress-result").get_text()
    assert "已提交，待签收" in result and "澧县市场监督管理局" in result
    assert "地磅年检" not in result and "兰江" not in result  # status and bureau only
    response = client.post("/progress", data={"csrf_token": token, "number": submitted["number"],
                                              "query_code": "WRONG1"})
    assert response.status_code == 404 and "不正确" in soup(response).get_text()
