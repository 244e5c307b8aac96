"""POST /api/v1/requests and GET /api/v1/requests/<number> per the contract."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from services.models import Request
from tests.helpers import token_for


def auth(app, username):
    return {"Authorization": f"Bearer {token_for(app, username)}"}


def post(client, headers, body):
    return client.post("/api/v1/requests", json=body, headers=headers)


def test_submit_one_service(app, client, people):
    body = {"services": ["JL-001"], "description": "两台地磅", "idempotency_key": "erp-000001",
            "attributes": {"JL-001": {"capacity": 80, "mode": "onsite"}}}
    response = post(client, auth(app, people["a"]), body)
    assert response.status_code == 201
    data = response.get_json()
    assert data["number"].startswith("LX") and len(data["query_code"]) == 6
    assert data["tickets"] == [{"number": data["number"] + "-1", "bureau": "amr", "bureau_name": "澧县市场监督管理局",
                                "status": "submitted", "due_date": None, "service_codes": ["JL-001"],
                                "service_dues": {"JL-001": None}, "info_due": None}]
    assert [e["kind"] for e in data["timeline"]] == ["submitted"]  # the routing note is internal


def test_bundle_by_several_codes(app, client, people):
    body = {"services": ["JC-001", "RZ-001", "ZC-001"], "idempotency_key": "erp-000002"}
    data = post(client, auth(app, people["a"]), body).get_json()
    assert {t["bureau"]: t["service_codes"] for t in data["tickets"]} == {"amr": ["JC-001", "ZC-001"],
                                                                          "agri": ["RZ-001"]}


def test_idempotency_key_returns_the_first_request(app, client, people):
    headers = auth(app, people["a"])
    body = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "电子秤"}}, "idempotency_key": "k-12345678"}
    first = post(client, headers, body)
    second = post(client, headers, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["number"] == second.get_json()["number"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Request.id))) == 1


@pytest.mark.parametrize("body,field", [
    ({"services": []}, "services"),
    ({"services": "JL-001"}, "services"),
    ({"services": ["NOPE"]}, "services"),
    ({"services": ["ZL-002"]}, "services"),
    ({"services": ["JL-001"], "attributes": {"JL-001": {"capacity": "many", "mode": "onsite"}}},
     "attributes.JL-001.capacity"),
    ({"services": ["JL-001"], "attributes": {"JL-001": {"capacity": 5, "mode": "fly"}}}, "attributes.JL-001.mode"),
    ({"services": ["JL-001"], "attributes": {"JL-001": {"capacity": 5}}}, "attributes.JL-001.mode"),
    ({"services": ["JL-001"], "attributes": {"JL-001": {"capacity": 5, "mode": "lab", "colour": "red"}}},
     "attributes.JL-001.colour"),
    ({"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "x", "items": ["scale", "rocket"]}}},
     "attributes.JL-002.items"),
    ({"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "x"}}, "idempotency_key": "bad key!"},
     "idempotency_key"),
    ({"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "x"}}, "description": 42}, "description"),
])
def test_bad_bodies_are_422_with_fields(app, client, people, body, field):
    response = post(client, auth(app, people["a"]), body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Request.id))) == 0


def test_not_json_is_400(app, client, people):
    response = client.post("/api/v1/requests", data="services=JL-001", headers=auth(app, people["a"]),
                           content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"


def test_tokens_and_roles(app, client, people):
    body = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "x"}}}
    assert post(client, {}, body).status_code == 401
    assert post(client, {"Authorization": "Bearer lxq_nonsense"}, body).status_code == 401
    assert post(client, {"Authorization": "Basic abc"}, body).status_code == 401
    assert post(client, auth(app, people["amr"]), body).status_code == 403


def test_script_in_description_comes_back_as_plain_text(app, client, people):
    evil = "<script>alert(1)</script>"
    data = post(client, auth(app, people["a"]), {"services": ["JL-002"], "description": evil,
                                                 "attributes": {"JL-002": {"instrument": evil}}}).get_json()
    assert data["description"] == evil


def test_read_back_and_other_enterprise_gets_404(app, client, people):
    number = post(client, auth(app, people["a"]), {"services": ["JL-002"],
                                                   "attributes": {"JL-002": {"instrument": "x"}}}).get_json()["number"]
    data = client.get(f"/api/v1/requests/{number}", headers=auth(app, people["a"])).get_json()
    assert data["status"] == "submitted" and data["tickets"][0]["bureau"] == "amr"
    assert client.get(f"/api/v1/requests/{number}", headers=auth(app, people["b"])).status_code == 404
    staff = client.get(f"/api/v1/requests/{number}", headers=auth(app, people["amr"])).get_json()
    assert "query_code" not in staff and "routing_reason" in staff["tickets"][0]
    assert client.get("/api/v1/requests/LX00000000000000", headers=auth(app, people["a"])).status_code == 404
