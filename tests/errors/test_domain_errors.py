"""The domain's errors reach people through one set of handlers (portal/errors.py): a page, a JSON
API error or an Open311 error, with the error's status and messages in the request's language."""
from __future__ import annotations

import pytest

from portal.access import public
from services.core.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    ServiceError,
    Stale,
    ValidationFailed,
)
from services.core.texts import N_, Text
from tests.helpers import login, soup
from tests.open311.helpers import xml_of

EN = {"Accept-Language": "en-US,en;q=0.9"}

ERRORS = {
    "not_found": NotFound(Text(N_("没有找到这个申请"))),
    "invalid": ValidationFailed({"capacity": Text(N_("应为数字")), "mode": Text(N_("请选择"))}),
    "forbidden": Forbidden(Text(N_("只有企业账号可以提交申请"))),
    "conflict": Conflict(Text(N_("不能停用自己的账号"))),
    "invalid_transition": InvalidTransition("状态已变化"),
    "stale": Stale(),
    "bad_request": ServiceError("系统尚未配置联席会议办公室，无法分办，请联系管理员"),
}


@pytest.fixture
def raising(app):
    """Routes that raise each error, on a page, under /api/ and under /open311/ (added before the
    first request, as Flask requires)."""
    def view(name: str, fmt: str = "json"):
        raise ERRORS[name]

    for rule in ("/errors-test/<name>", "/api/v1/errors-test/<name>", "/open311/v2/errors-test/<name>.<fmt>"):
        app.add_url_rule(rule, endpoint="errors_test_" + rule.split("/")[1], view_func=public(view))
    return app.test_client()


@pytest.mark.parametrize("name", list(ERRORS))
def test_api_gets_code_status_and_fields(raising, name):
    exc = ERRORS[name]
    response = raising.get(f"/api/v1/errors-test/{name}")
    assert response.status_code == exc.status
    error = response.get_json()["error"]
    assert error["code"] == exc.code
    assert set(error.get("fields", {})) == set(exc.fields)
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.parametrize("name", list(ERRORS))
def test_pages_get_the_error_page_with_the_message(raising, name):
    exc = ERRORS[name]
    response = raising.get(f"/errors-test/{name}")
    assert response.status_code == exc.status
    assert response.mimetype == "text/html"
    text = soup(response).select_one(".lead").get_text()
    if exc.fields:  # no form to show them next to: every message on the page
        assert "应为数字" in text and "请选择" in text
    else:
        assert text == str(exc.message)


@pytest.mark.parametrize("name", list(ERRORS))
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_gets_its_error_list_in_the_urls_format(raising, name, fmt):
    exc = ERRORS[name]
    status = 400 if exc.status == 422 else exc.status  # GeoReport v2 has no 422
    response = raising.get(f"/open311/v2/errors-test/{name}.{fmt}")
    assert response.status_code == status
    if fmt == "xml":
        errors = xml_of(response).findall("error")
        assert {e.findtext("code") for e in errors} == {str(status)}
        descriptions = [e.findtext("description") for e in errors]
    else:
        body = response.get_json()
        assert {e["code"] for e in body} == {status}
        descriptions = [e["description"] for e in body]
    assert len(descriptions) == max(1, len(exc.fields))
    if exc.fields:
        assert sorted(d.split("：")[0] for d in descriptions) == ["capacity", "mode"]


def test_messages_follow_the_language(raising):
    assert raising.get("/api/v1/errors-test/stale", headers=EN).get_json()["error"]["message"].startswith(
        "Someone else has just updated")
    page = soup(raising.get("/errors-test/not_found?lang=en"))
    assert page.select_one(".lead").get_text() == "Request not found"
    assert soup(raising.get("/errors-test/not_found", headers=EN)).select_one(".lead").get_text() == "没有找到这个申请"
    body = raising.get("/open311/v2/errors-test/invalid.json", headers=EN).get_json()
    assert {e["description"] for e in body} == {"capacity: Must be a number", "mode: Please choose"}


# --------------------------------------------------------------------------- real pages
def test_someone_elses_request_is_the_404_page(app, client, people):
    from tests.plugins.people import submit

    number = submit(app, people["a"], ["JL-002"], {"JL-002": {"instrument": "电子秤"}}).rsplit("-", 1)[0]
    login(client, people["b"])
    for url in (f"/requests/{number}", "/requests/LX0"):
        response = client.get(url)
        assert response.status_code == 404
        page = soup(response)
        assert page.h1.get_text() == "页面不存在"
        assert page.select_one(".lead").get_text() == "没有找到这个申请"


def test_unknown_service_is_a_404_page_and_api_error(client):
    page = soup(client.get("/services/NOPE-1"))
    assert page.select_one(".lead").get_text() == "服务 NOPE-1 不存在"
    response = client.get("/api/v1/services/NOPE-1?lang=en")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "Service NOPE-1 does not exist"}}


def test_revoking_someone_elses_token_is_a_404_page(app, client, people):
    from portal.extensions import db
    from services.accounts import users as accounts
    from tests.helpers import csrf, token_for

    token_for(app, people["b"])
    with app.app_context():
        other = accounts.active_tokens(db.session, accounts.get_by_username(db.session, people["b"]))[0].id
    login(client, people["a"])
    response = client.post(f"/account/tokens/{other}/revoke", data={"csrf_token": csrf(client, "/account/profile")})
    assert response.status_code == 404
    assert soup(response).select_one(".lead").get_text() == "没有这个令牌"


def test_unknown_api_path_and_wrong_method_are_json(client):
    response = client.get("/api/v1/nothing-here", headers=EN)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert response.get_json()["error"]["message"] == "Nothing was found at this address"
    response = client.delete("/api/v1/services")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_wrong_method_on_a_page_keeps_the_allow_header(client):
    response = client.put("/progress")
    assert response.status_code == 405
    assert response.mimetype == "text/html" and "POST" in response.headers["Allow"]
