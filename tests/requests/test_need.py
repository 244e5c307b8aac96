"""我有需求: suggestions from the enterprise's own words, then a triage ticket to the joint office."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from services.models import Request
from tests.helpers import csrf, login, soup


def test_suggests_services_then_sends_to_joint_office(app, client, people):
    login(client, people["a"])
    form = soup(client.get("/need"))
    key = form.select_one("input[name=idempotency_key]")["value"]
    data = {"csrf_token": csrf(client, "/need"), "idempotency_key": key, "contact_name": "李华",
            "contact_mobile": "13907361234", "description": "我们厂的地磅需要年检，不知道找谁"}
    page = soup(client.post("/need", data={**data, "action": "suggest"}))
    names = [a.get_text() for a in page.select(".suggest-box .service-name a")]
    assert names and names[0] == "汽车衡（地磅）检定"
    assert page.select_one(".suggest-box a[href='/apply?services=JL-001']")
    with app.app_context():
        assert db.session.scalar(select(Request)) is None
    response = client.post("/need", data={**data, "action": "send"})
    assert response.status_code == 302
    again = client.post("/need", data={**data, "action": "send"})
    assert again.headers["Location"] == response.headers["Location"]
    with app.app_context():
        reqs = db.session.scalars(select(Request)).all()
        assert len(reqs) == 1 and reqs[0].kind == "need"
        assert [t.bureau.code for t in reqs[0].tickets] == ["joint-office"]


def test_too_short_a_description(client, people):
    login(client, people["a"])
    response = client.post("/need", data={"csrf_token": csrf(client, "/need"), "description": "帮帮我",
                                          "contact_name": "李华", "contact_mobile": "13907361234",
                                          "action": "send"})
    assert response.status_code == 422 and "至少 10 个字" in soup(response).get_text()


def test_bundles_page_lists_bundles_and_services(client, people):
    page = soup(client.get("/bundles"))
    assert "新产品上市" in page.get_text()
    assert page.select_one("a[href='/apply?bundle=new-product']")
    assert page.select("input[name=services][value=JL-001]")
    assert not page.select("input[name=services][value=ZL-002]")  # offline services are not offered
