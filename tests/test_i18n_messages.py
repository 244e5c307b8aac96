"""Messages the services give (validation problems, refusals) in the page's language, and the API's
and Open311's error messages in the request's language (`?lang=`, the `lang` cookie, and on
/api/ and /open311/ also `Accept-Language`). Chinese stays the default; error codes never change."""
from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, USCC_A, csrf, login, make_enterprise, make_staff, soup, token_for
from tests.open311.helpers import BASE, JL001, xml_of
from tests.requests.test_apply_pages import JL001 as JL001_FORM
from tests.requests.test_apply_pages import open_form, preview

EN = {"Accept-Language": "en-US,en;q=0.9"}


def field_errors(response) -> dict[str, str]:
    return {p["id"][:-4]: p.get_text(" ", strip=True) for p in soup(response).select(".field-error[id]")}


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def register(client, **changes):
    data = {"company": "澧县兰江食品有限公司", "uscc": USCC_A, "contact_name": "李华", "mobile": "13907361234",
            "email": "lihua@example.com", "township": "澧阳街道", "industry": "food", "size": "small",
            "password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf(client, "/account/register")}
    data.update(changes)
    return client.post("/account/register", data=data)


# --------------------------------------------------------------------------- pages
def test_registration_problems_in_english(client):
    client.set_cookie("lang", "en")
    response = register(client, uscc="91350100M000100Y44", password="onlyletters", confirm="onlyletters")
    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["uscc"] == ("The check character of the Unified Social Credit Code is wrong; "
                              "please check for typing errors")
    assert errors["password"] == "The password must contain both letters and digits"

    errors = field_errors(register(client, uscc="91350100M000100I43", password="short1", confirm="short1"))
    assert errors["uscc"] == ("The Unified Social Credit Code cannot contain I "
                              "(I, O, S, V and Z are not used)")
    assert errors["password"] == "The password must have at least 8 characters"
    assert not has_chinese(errors["uscc"] + errors["password"])


def test_registration_problems_stay_chinese_by_default(client):
    errors = field_errors(register(client, uscc="9135010", password="onlyletters", confirm="onlyletters"))
    assert errors["uscc"] == "统一社会信用代码应为 18 位，您填写了 7 位"
    assert errors["password"] == "密码需同时包含字母和数字"


def test_login_refusal_in_english(app, client):
    make_enterprise(app)
    response = client.post("/account/login?lang=en", data={"login": USCC_A, "password": "wrong-pass1",
                                                            "csrf_token": csrf(client)})
    assert response.status_code == 401
    assert "Incorrect username or password (4 more wrong attempts" in soup(response).get_text()


def test_request_form_problems_in_english(app, client):
    login(client, make_enterprise(app))
    client.set_cookie("lang", "en")
    _, hidden = open_form(client)
    response = preview(client, {**JL001_FORM, **hidden, "f_capacity": "lots", "f_preferred_date": "soon"})
    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["f_capacity"].endswith(": Must be a number")
    assert errors["f_preferred_date"].endswith(": Must be a date, e.g. 2026-12-01")

    client.set_cookie("lang", "zh")
    _, hidden = open_form(client)
    errors = field_errors(preview(client, {**JL001_FORM, **hidden, "f_capacity": "lots"}))
    assert errors["f_capacity"].endswith("：应为数字")


def test_enterprise_file_in_english(app, client):
    make_enterprise(app)  # industry food, size small
    login(client, make_staff(app, "sup", "supervisor", None))
    page = soup(client.get(f"/staff/enterprises/{USCC_A}?lang=en"))
    profile = page.select_one("#profile-title").find_parent("section").get_text(" ", strip=True)
    assert "Food and agricultural product processing" in profile and "Small enterprise" in profile
    page = soup(client.get(f"/staff/enterprises/{USCC_A}?lang=zh"))
    profile = page.select_one("#profile-title").find_parent("section").get_text(" ", strip=True)
    assert "食品及农产品加工" in profile and "小型企业" in profile


# --------------------------------------------------------------------------- JSON API
BAD_CAPACITY = {"services": ["JL-001"], "attributes": {"JL-001": {"capacity": "many", "mode": "onsite"}}}


def test_api_422_follows_accept_language(app, client):
    headers = {"Authorization": f"Bearer {token_for(app, make_enterprise(app))}"}
    english = client.post("/api/v1/requests", json=BAD_CAPACITY, headers={**headers, **EN})
    chinese = client.post("/api/v1/requests", json=BAD_CAPACITY, headers=headers)
    assert english.status_code == chinese.status_code == 422
    en, zh = english.get_json()["error"], chinese.get_json()["error"]
    assert en["code"] == zh["code"] == "invalid"
    assert set(en["fields"]) == set(zh["fields"]) == {"attributes.JL-001.capacity"}
    assert en["message"] == "Some of what you submitted is not valid. Please correct it as shown."
    assert en["fields"]["attributes.JL-001.capacity"].endswith(": Must be a number")
    assert zh["message"] == "提交的内容有误，请按提示修改。"
    assert zh["fields"]["attributes.JL-001.capacity"].endswith("：应为数字")
    assert "Accept-Language" in english.headers["Vary"]


def test_api_404_follows_accept_language(client):
    english = client.get("/api/v1/services/NOPE", headers=EN)
    chinese = client.get("/api/v1/services/NOPE")
    assert english.status_code == chinese.status_code == 404
    assert english.get_json()["error"] == {"code": "not_found", "message": "Service NOPE does not exist"}
    assert chinese.get_json()["error"] == {"code": "not_found", "message": "服务 NOPE 不存在"}


def test_api_language_cookie_and_parameter_win(app, client):
    headers = {"Authorization": f"Bearer {token_for(app, make_enterprise(app))}"}
    assert client.get("/api/v1/requests/LX0?lang=en", headers=headers).get_json()["error"] == {
        "code": "not_found", "message": "Request not found"}
    client.set_cookie("lang", "zh")  # chosen with the switcher: stronger than the browser's header
    assert client.get("/api/v1/requests/LX0", headers={**headers, **EN}).get_json()["error"]["message"] == \
        "没有找到这个申请"
    client.delete_cookie("lang")
    other = client.get("/api/v1/services/NOPE", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert other.get_json()["error"]["message"] == "服务 NOPE 不存在"  # no English asked for: Chinese


def test_api_unauthorized_in_english(client):
    response = client.get("/api/v1/requests/LX0", headers=EN)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert not has_chinese(response.get_json()["error"]["message"])


def test_pages_ignore_accept_language(client):
    page = soup(client.get("/account/login", headers=EN))
    assert page.html["lang"] == "zh-CN"


# --------------------------------------------------------------------------- Open311
def test_open311_errors_follow_accept_language(app, client):
    key = token_for(app, make_enterprise(app))
    data = {**JL001, "attribute[capacity]": "lots", "api_key": key}
    english = client.post(f"{BASE}/requests.json", data=data, headers=EN)
    chinese = client.post(f"{BASE}/requests.json", data=data)
    assert english.status_code == chinese.status_code == 400
    assert [e["code"] for e in english.get_json()] == [e["code"] for e in chinese.get_json()] == [400]
    assert english.get_json()[0]["description"].startswith("attribute[capacity]: ")
    assert english.get_json()[0]["description"].endswith(": Must be a number")
    assert chinese.get_json()[0]["description"].startswith("attribute[capacity]：")
    assert chinese.get_json()[0]["description"].endswith("：应为数字")

    english = client.get(f"{BASE}/requests/LX0.xml", query_string={"api_key": key}, headers=EN)
    assert english.status_code == 404
    error = xml_of(english).find("error")
    assert (error.findtext("code"), error.findtext("description")) == ("404", "Request not found")
    chinese = client.get(f"{BASE}/requests/LX0.json", query_string={"api_key": key})
    assert chinese.get_json() == [{"code": 404, "description": "没有找到这个申请"}]


@pytest.mark.parametrize("path", ["/services/NOPE.json", "/tokens/abc.json", "/nothing.json"])
def test_open311_not_found_in_english(client, path):
    response = client.get(BASE + path, headers=EN)
    assert response.status_code == 404
    assert not has_chinese(response.get_json()[0]["description"])
    assert has_chinese(client.get(BASE + path).get_json()[0]["description"])


def test_staff_action_refusals_in_english(app, client):
    from tests.plugins.people import submit as submit_ticket

    make_enterprise(app)
    number = submit_ticket(app, USCC_A, ["JL-002"], {"JL-002": {"instrument": "电子秤"}})
    login(client, make_staff(app, "amr-h", "handler", "amr"))
    client.set_cookie("lang", "en")
    page = soup(client.get(f"/staff/tickets/{number}"))
    form = page.select_one(f"form[action='/staff/tickets/{number}/actions/reject']")
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    response = client.post(form["action"], data=data)
    assert response.status_code == 422
    assert soup(response).select_one("#action-error").get_text() == "A rejection needs a reason"
    data["reject-version"] = "999"
    data["reject-message"] = "材料不全"
    response = client.post(form["action"], data=data)
    assert response.status_code == 409
    assert soup(response).select_one("#action-error").get_text().startswith("Someone else has just updated")


def test_bad_query_parameters_are_explained_in_english_too(app, client):
    api = client.get("/api/v1/services?per_page=500", headers={"Accept-Language": "en"}).get_json()["error"]
    assert api["code"] == "bad_parameter" and api["fields"]["per_page"].startswith("per_page must be a whole number")
    api = client.get("/api/v1/services?category=nope", headers={"Accept-Language": "en"}).get_json()["error"]
    assert api["fields"]["category"] == "Unknown service category: nope"
    api = client.get("/api/v1/services?category=nope").get_json()["error"]
    assert api["fields"]["category"] == "未知的服务类别：nope"
