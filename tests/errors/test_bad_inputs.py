"""Hostile or absurd input that used to end in a 500 gets the right 4xx (or a safe redirect)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from services.models import Request
from tests.helpers import csrf, csrf_from, login, make_staff, soup

HUGE = "99999999999999999999999"  # beyond 64 bits
JL002 = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "电子秤"}}}


def request_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Request.id)))


# --------------------------------------------------------------------------- JSON bodies
def test_deeply_nested_json_is_a_400(app, client, enterprise_auth):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/requests", data=body, content_type="application/json",
                           headers=enterprise_auth)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"
    assert request_count(app) == 0


def test_nesting_beyond_the_limit_inside_an_object_is_a_400(client, enterprise_auth):
    deep: object = "x"
    for _ in range(200):  # parses fine, but no body of ours is anywhere near that deep
        deep = [deep]
    response = client.post("/api/v1/requests", json={**JL002, "attributes": {"JL-002": {"instrument": deep}}},
                           headers=enterprise_auth)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"


@pytest.mark.parametrize("where", ["description", "key", "attribute"])
def test_lone_surrogate_is_a_400(app, client, enterprise_auth, where):
    body = {"description": '"\\ud800"', "key": '"JL-002"', "attribute": '"x"'}
    if where == "key":
        raw = '{"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "x", "\\ud800": "y"}}}'
    elif where == "attribute":
        raw = '{"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "\\udfff"}}}'
    else:
        raw = '{"services": ["JL-002"], "description": %s, "attributes": {"JL-002": {"instrument": "x"}}}' % (
            body["description"])
    response = client.post("/api/v1/requests", data=raw, content_type="application/json", headers=enterprise_auth)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_json" and "UTF" in error["message"]
    assert request_count(app) == 0


def test_bad_json_message_in_english(client, enterprise_auth):
    response = client.post("/api/v1/requests?lang=en", data='{"description": "\\ud800"}',
                           content_type="application/json", headers=enterprise_auth)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("The request body contains an invalid character")


def test_surrogate_in_ticket_action_and_rating_bodies(client, staff_auth, enterprise_auth, amr_ticket):
    response = client.post(f"/api/v1/tickets/{amr_ticket}/actions", data='{"action": "note", "message": "\\ud800"}',
                           content_type="application/json", headers=staff_auth)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"
    number = amr_ticket.rsplit("-", 1)[0]
    response = client.post(f"/api/v1/requests/{number}/rating", data="[" * 50_000,
                           content_type="application/json", headers=enterprise_auth)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"


# --------------------------------------------------------------------------- query parameters
@pytest.mark.parametrize("query", ["from=0001-01-01&to=9999-12-31", "from=0001-01-01", "to=9999-12-31",
                                   "per_page=" + "9" * 5000, "per_page=²"])
def test_absurd_ticket_filters_are_400(client, staff_auth, query):
    response = client.get(f"/api/v1/tickets?{query}", headers=staff_auth)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_parameter" and set(error["fields"]) <= {"from", "to", "per_page"}


def test_far_dates_are_fine_within_the_calendar(client, staff_auth):
    assert client.get("/api/v1/tickets?from=1900-01-01&to=2999-12-31", headers=staff_auth).status_code == 200


def test_absurd_queue_filter_on_the_page_is_400(app, client, people):
    login(client, people["amr"])
    response = client.get("/staff/queue?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 400


@pytest.mark.parametrize("when", ["start_date=0001-01-01", "end_date=9999-12-31",
                                  "start_date=0001-01-01T00:00:00", "end_date=9999-12-31T23:59:59-12:00"])
def test_open311_dates_at_the_ends_of_the_calendar_are_400(client, enterprise_auth, when):
    key = enterprise_auth["Authorization"].split()[1]
    response = client.get(f"/open311/v2/requests.json?api_key={key}&{when}")
    assert response.status_code == 400
    assert response.get_json()[0]["code"] == 400


# --------------------------------------------------------------------------- integers in paths
@pytest.fixture
def admin_client(app, client):
    login(client, make_staff(app, "adm", "admin", None))
    return client


@pytest.mark.parametrize("path", [f"/admin/users/{HUGE}", f"/admin/rules/{HUGE}", "/admin/users/" + "9" * 5000,
                                  "/admin/users/١٢"])
def test_huge_ids_in_admin_paths_are_404(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 404
    assert soup(response).h1.get_text() == "页面不存在"


def test_huge_ids_elsewhere_are_404(app, client, people):
    login(client, people["a"])
    assert client.get(f"/attachments/{HUGE}").status_code == 404
    token = csrf(client, "/account/profile")
    assert client.post(f"/account/tokens/{HUGE}/revoke", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/staff/ratings/{HUGE}/follow-up", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("number", [2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64])
def test_ids_up_to_and_beyond_what_a_column_holds_are_404(admin_client, number):
    """The largest INTEGER id reaches the view (no such user); larger ones match no route. Both
    are a 404 on SQLite (64-bit integers) and PostgreSQL (32-bit), never a driver error."""
    assert admin_client.get(f"/admin/users/{number}").status_code == 404
    assert admin_client.get(f"/admin/rules/{number}").status_code == 404


def test_the_converter_still_builds_and_matches_ordinary_ids(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/admin/users/42") == ("admin.user_edit", {"user_id": 42})
    with app.test_request_context():
        from flask import url_for

        assert url_for("admin.user_edit", user_id=7) == "/admin/users/7"


@pytest.mark.parametrize("query", ["page=" + "1" * 5000, "page=²", "page=0"])
def test_absurd_audit_page_is_400(admin_client, query):
    response = admin_client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    assert "page" in soup(response).select_one(".lead").get_text()


def test_absurd_holiday_year_and_request_page_are_400(app, admin_client, people):
    assert admin_client.get("/admin/holidays?year=" + "2" * 5000).status_code == 400
    assert admin_client.get("/admin/holidays?year=2026").status_code == 200
    admin_client.post("/account/logout", data={"csrf_token": csrf(admin_client, "/")})
    login(admin_client, people["a"])
    assert admin_client.get("/my/requests?page=" + "3" * 5000).status_code == 400
    assert admin_client.get("/my/requests?page=2").status_code == 200


# --------------------------------------------------------------------------- forms without a version
@pytest.mark.parametrize("step", ["claim", "assign"])
def test_claim_or_assign_without_version_is_refused(app, client, people, amr_ticket, step):
    login(client, make_staff(app, "amr-lead", "lead", "amr") if step == "assign" else people["amr"])
    page = client.get(f"/staff/tickets/{amr_ticket}")
    data = {"csrf_token": csrf_from(page.data)}
    if step == "assign":
        data["assignee"] = people["amr"]
    response = client.post(f"/staff/tickets/{amr_ticket}/{step}", data=data)
    assert response.status_code == 400
    assert "页面已过期" in soup(response).get_text()
    for bad in ("²", "9" * 5000, "-1"):
        response = client.post(f"/staff/tickets/{amr_ticket}/{step}", data={**data, "version": bad})
        assert response.status_code == 400, bad


def test_action_with_an_unusable_version_does_not_crash(client, people, amr_ticket):
    login(client, people["amr"])
    page = client.get(f"/staff/tickets/{amr_ticket}")
    data = {"csrf_token": csrf_from(page.data), "note-action": "note", "note-message": "已电话联系",
            "note-version": "²"}
    response = client.post(f"/staff/tickets/{amr_ticket}/actions/note", data=data)
    assert response.status_code in (302, 409)


# --------------------------------------------------------------------------- redirects
@pytest.mark.parametrize("target", ["/%0d%0aSet-Cookie:x=1", "/%0aLocation:%20http://evil.example",
                                    "/%09/evil.example", "//evil.example", "https://evil.example/"])
def test_language_switch_never_redirects_off_site_or_splits_headers(client, target):
    response = client.get(f"/lang/zh?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert all("x=1" not in c for c in response.headers.getlist("Set-Cookie"))


def test_login_next_with_a_line_break_goes_home(app, client, people):
    from tests.helpers import PASSWORD

    response = client.post("/account/login?next=/%0d%0aSet-Cookie:x=1",
                           data={"login": people["a"], "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.status_code == 302
    assert "\n" not in response.headers["Location"] and "Set-Cookie" not in response.headers["Location"]
