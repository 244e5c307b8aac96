"""POST /open311/v2/requests: form-encoded submissions with an enterprise api_key."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import Request
from tests.open311.helpers import BASE, error_descriptions, submit, submit_ok, xml_of


def stored(app, number: str) -> dict:
    with app.app_context():
        req = db.session.scalar(select(Request).where(Request.number == number))
        return {"description": req.description, "contact_name": req.contact_name,
                "contact_mobile": req.contact_mobile, "contact_email": req.contact_email,
                "attributes": {i.service.code: i.attributes for i in req.items},
                "bureaus": [t.bureau.code for t in req.tickets]}


def test_post_creates_a_routed_request(app, client, key_a):
    response = submit(client, key_a, changes={"lat": "29.63", "long": "111.75", "address_string": "澧阳街道"})
    assert response.status_code == 201
    [body] = response.get_json()
    number = body["service_request_id"]
    assert number.startswith("LX")
    assert body["account_id"] is None
    assert "澧县市场监督管理局" in body["service_notice"] and "工作日" in body["service_notice"]

    api = client.get(f"/api/v1/requests/{number}", headers={"Authorization": f"Bearer {key_a}"})
    assert api.status_code == 200
    detail = api.get_json()
    assert detail["description"] == "地磅年检"
    assert [t["bureau"] for t in detail["tickets"]] == ["amr"]
    assert detail["tickets"][0]["service_codes"] == ["JL-001"]
    assert stored(app, number)["attributes"] == {
        "JL-001": {"capacity": 60, "mode": "onsite", "preferred_date": "2026-12-01"}}


def test_post_xml_answer(client, key_a):
    response = submit(client, key_a, fmt="xml")
    assert response.status_code == 201
    root = xml_of(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id").startswith("LX")
    assert "受理" in request.findtext("service_notice")


def test_every_datatype_and_both_multivalue_spellings(app, client, key_a):
    base = {"service_code": "JL-002", "attribute[instrument]": "电子台秤 ",
            "attribute[note]": "共 3 台\n放在仓库", "phone": "13907361234"}
    number = submit_ok(client, key_a, base={**base, "attribute[items][]": ["scale", "pump"]})
    assert stored(app, number)["attributes"]["JL-002"] == {
        "instrument": "电子台秤", "items": ["scale", "pump"], "note": "共 3 台\n放在仓库"}

    number = submit_ok(client, key_a, base={**base, "attribute[items]": ["pump", "scale"]})
    assert stored(app, number)["attributes"]["JL-002"]["items"] == ["pump", "scale"]

    number = submit_ok(client, key_a, base={**base, "attribute[items][]": "scale"})
    assert stored(app, number)["attributes"]["JL-002"]["items"] == ["scale"]

    number = submit_ok(client, key_a, base={**base, "attribute[items]": "pump"})
    assert stored(app, number)["attributes"]["JL-002"]["items"] == ["pump"]

    number = submit_ok(client, key_a, changes={"attribute[capacity]": "2.5",
                                               "attribute[preferred_date]": "2026-12-01T09:30"})
    assert stored(app, number)["attributes"]["JL-001"] == {
        "capacity": 2.5, "mode": "onsite", "preferred_date": "2026-12-01T09:30"}


def test_contact_fields_map_to_the_request(app, client, key_a):
    number = submit_ok(client, key_a, changes={"first_name": "华", "last_name": "李",
                                               "phone": "139-0736-9999", "email": "li@example.com"})
    row = stored(app, number)
    assert (row["contact_name"], row["contact_mobile"], row["contact_email"]) == (
        "李华", "13907369999", "li@example.com")


def test_enterprise_without_mobile_must_give_phone(app, client):
    from services.accounts import users as accounts

    with app.app_context():
        user = accounts.create_user(db.session, "lanjiang", "enterprise", "passw0rd-ok",
                                    uscc_code="91440300708461136T", company="澧县测试有限公司")
        key = accounts.issue_token(db.session, user)
    response = submit(client, key, changes={"phone": None})
    assert response.status_code == 400
    assert any(d.startswith("phone：") for d in error_descriptions(response))
    assert submit(client, key).status_code == 201


def test_missing_api_key_is_403(client):
    """GeoReport v2: "403 - Invalid api_key" (a missing key is no valid key either)."""
    response = submit(client, None)
    assert response.status_code == 403
    assert "api_key" in error_descriptions(response)[0]
    response = submit(client, None, fmt="xml")
    assert response.status_code == 403
    assert xml_of(response).findtext("error/code") == "403"
    assert "api_key" in xml_of(response).findtext("error/description")


@pytest.mark.parametrize("key", ["lxq_not-a-real-token", "garbage", "x" * 300])
def test_bad_api_key_is_403(client, key):
    response = submit(client, key)
    assert response.status_code == 403
    assert "api_key" in error_descriptions(response)[0]


def test_api_key_in_query_string_is_accepted(client, key_a):
    data = {"service_code": "JL-001", "attribute[capacity]": "30", "attribute[mode]": "lab",
            "phone": "13907361234"}
    assert client.post(f"{BASE}/requests.json?api_key={key_a}", data=data).status_code == 201


def test_staff_key_cannot_submit(app, client, staff_key):
    response = submit(client, staff_key)
    assert response.status_code == 403
    assert "企业" in error_descriptions(response)[0]
    with app.app_context():
        assert db.session.scalar(select(Request.id)) is None


def test_revoked_key_is_refused(app, client, key_a):
    from services.accounts import users as accounts

    with app.app_context():
        user = accounts.user_for_token(db.session, key_a)
        for t in accounts.active_tokens(db.session, user):
            accounts.revoke_token(db.session, user, t.id)
    assert submit(client, key_a).status_code == 403


@pytest.mark.parametrize("changes, field", [
    ({"attribute[mode]": "by-post"}, "attribute[mode]"),
    ({"attribute[capacity]": "sixty"}, "attribute[capacity]"),
    ({"attribute[capacity]": None}, "attribute[capacity]"),
    ({"attribute[preferred_date]": "next week"}, "attribute[preferred_date]"),
    ({"attribute[colour]": "red"}, "attribute[colour]"),
    ({"service_code": "NOPE-1"}, "service_code"),
    ({"service_code": "ZL-002"}, "service_code"),
    ({"service_code": None}, "service_code"),
    ({"phone": "12345"}, "phone"),
    ({"email": "not-an-address"}, "email"),
])
def test_bad_values_are_400_naming_the_field(app, client, key_a, changes, field):
    response = submit(client, key_a, changes=changes)
    assert response.status_code == 400
    descriptions = error_descriptions(response)
    assert any(d.startswith(f"{field}：") for d in descriptions), descriptions
    with app.app_context():
        assert db.session.scalar(select(Request.id)) is None


def test_bad_values_name_the_label_too(client, key_a):
    response = submit(client, key_a, changes={"attribute[capacity]": "sixty", "attribute[mode]": "x"})
    descriptions = error_descriptions(response)
    assert "attribute[capacity]：最大秤量（吨）：应为数字" in descriptions
    assert any(d.startswith("attribute[mode]：检定方式") for d in descriptions)


def test_multivaluelist_value_outside_the_list(client, key_a):
    base = {"service_code": "JL-002", "attribute[instrument]": "电子台秤", "phone": "13907361234",
            "attribute[items][]": ["scale", "scales"]}
    response = submit(client, key_a, fmt="xml", base=base)
    assert response.status_code == 400
    root = xml_of(response)
    assert root.findtext("error/code") == "400"
    assert any(e.findtext("description").startswith("attribute[items]：器具类别")
               for e in root.findall("error"))


def test_markup_in_description_is_plain_text(app, client, key_a):
    text = '<script>alert("x")</script> & <b>地磅</b>'
    number = submit_ok(client, key_a, changes={"description": text})
    assert stored(app, number)["description"] == text

    body = client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": key_a}).get_json()
    assert body[0]["description"] == text

    response = client.get(f"{BASE}/requests/{number}.xml", query_string={"api_key": key_a})
    assert b"<script>" not in response.data
    assert b"&lt;script&gt;" in response.data
    assert xml_of(response).findtext("request/description") == text  # well-formed, round-trips


def test_key_of_a_deactivated_account_is_403(app, client, key_a):
    from services.accounts import users as accounts

    with app.app_context():
        accounts.user_for_token(db.session, key_a).active = False
        db.session.commit()
    assert submit(client, key_a).status_code == 403
    assert client.get(f"{BASE}/requests.json", query_string={"api_key": key_a}).status_code == 403
