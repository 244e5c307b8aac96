"""Account forms show every problem at once, next to its field, with required fields marked;
the password hint states exactly the rule that is enforced; staff land on their own work."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.models import User
from tests.helpers import PASSWORD, USCC_A, csrf, csrf_from, login, make_enterprise, make_staff, soup


def errors_of(response) -> dict[str, str]:
    return {p["id"][:-4]: p.get_text() for p in soup(response).select(".field-error[id]")}


def summary_items(response) -> list[str]:
    return [li.get_text(strip=True) for li in soup(response).select(".form-error-summary li")]


def test_registration_reports_every_wrong_field_at_once(app, client):
    response = client.post("/account/register", data={
        "csrf_token": csrf(client, "/account/register"), "company": "澧县兰江食品有限公司",
        "uscc": "91350100M000100Y44",  # wrong check character
        "contact_name": "李华", "mobile": "1390736",  # 7 digits
        "email": "lihua@", "township": "", "industry": "", "size": "",
        "password": "abc1", "confirm": "abc2"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert "校验位" in errors["uscc"]
    assert "11 位手机号码" in errors["mobile"]
    assert "邮箱格式不正确" in errors["email"]
    assert "乡镇" in errors["township"] and "行业" in errors["industry"] and "规模" in errors["size"]
    assert "至少 8 位" in errors["password"]
    assert "不一致" in errors["confirm"]
    items = summary_items(response)
    assert len(items) == 8 and len(set(items)) == len(items), items  # each problem once in the summary
    page = soup(response)  # … listed top to bottom, as the fields come on the page
    assert [a["href"][1:] for a in page.select(".form-error-summary a")] == \
        [p["id"][:-4] for p in page.select(".field-error[id]")]
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_register_marks_every_required_field(client):
    page = soup(client.get("/account/register"))
    for name in ("company", "uscc", "township", "industry", "size", "contact_name", "mobile", "email",
                 "password", "confirm"):
        label = page.select_one(f"label[for={name}]")
        assert label is not None and label.find_next_sibling("span", class_="req"), name
    assert "带 * 的为必填项" in page.get_text()


@pytest.mark.parametrize("url", ["/account/register"])
def test_password_hint_is_the_enforced_rule(app, client, url):
    hint = soup(client.get(url)).select_one("#password-hint").get_text()
    with app.app_context():
        assert hint == accounts.password_rule()
    assert "abc12345" in hint  # refused as a common password, and the hint says so
    fields: dict[str, str] = {}
    accounts.check_password("abc12345", fields=fields)
    assert "常见密码" in fields["password"]


def test_password_hint_on_reset_and_profile(app, client):
    make_enterprise(app, USCC_A)
    login(client, USCC_A)
    page = soup(client.get("/account/profile"))
    assert page.select_one("#pw-new_password-hint").get_text() == accounts.password_rule()


def test_registering_a_code_twice_says_so_and_offers_login(app, client):
    make_enterprise(app, USCC_A)
    data = {"csrf_token": csrf(client, "/account/register"), "company": "另一家公司", "uscc": USCC_A,
            "contact_name": "王明", "mobile": "13907361235", "email": "wm@example.com", "township": "澧阳街道",
            "industry": "food", "size": "small", "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/account/register", data=data)
    assert response.status_code == 422
    text = soup(response).get_text()
    assert "用户名" not in text
    assert "统一社会信用代码已注册" in errors_of(response)["uscc"]
    assert len(summary_items(response)) == 1
    links = {a["href"].split("?")[0] for a in soup(response).select("#uscc-taken a")}
    assert links == {"/account/login", "/account/reset"}


def test_login_error_is_shown_once(app, client):
    make_enterprise(app, USCC_A)
    response = client.post("/account/login", data={"csrf_token": csrf(client), "login": USCC_A,
                                                   "password": "wrong-pass1"})
    assert response.status_code == 401
    items = summary_items(response)
    assert len(items) == 1 and "密码不正确" in items[0]


def test_empty_login_reports_both_fields(client):
    response = client.post("/account/login", data={"csrf_token": csrf(client), "login": "", "password": ""})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"login", "password"}


def test_profile_reports_every_problem(app, client):
    make_enterprise(app, USCC_A)
    login(client, USCC_A)
    page = client.get("/account/profile")
    response = client.post("/account/profile", data={
        "csrf_token": csrf_from(page.data), "company": "", "contact_name": "李华", "mobile": "123",
        "email": "x@", "township": "北京市", "industry": "food", "size": ""})
    assert response.status_code == 422
    assert set(errors_of(response)) >= {"company", "mobile", "email", "township", "size"}


def test_password_change_shows_every_problem_beside_its_field(app, client):
    make_enterprise(app, USCC_A)
    login(client, USCC_A)
    page = client.get("/account/profile")
    response = client.post("/account/password", data={
        "csrf_token": csrf_from(page.data), "pw-current_password": "not-mine1", "pw-new_password": "short",
        "pw-confirm": "other"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert "当前密码不正确" in errors["pw-current_password"]
    assert "至少 8 位" in errors["pw-new_password"]
    assert "不一致" in errors["pw-confirm"]
    # the enterprise profile form on the same page still shows the saved profile
    assert soup(response).select_one("input[name=company]")["value"] == "澧县兰江食品有限公司"


def test_reset_form_reports_weak_password_and_mismatch_together(app, client):
    make_enterprise(app, USCC_A)
    with app.app_context():
        user = db.session.scalar(select(User))
        token = accounts._reset_serializer(app.config["SECRET_KEY"]).dumps(
            {"uid": user.id, "fp": accounts._fingerprint(user)})
    url = f"/account/reset/{token}"
    response = client.post(url, data={"csrf_token": csrf(client, url), "password": "password1",
                                      "confirm": "password2"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert "常见密码" in errors["password"] and "不一致" in errors["confirm"]


@pytest.mark.parametrize("role,bureau,landing", [
    ("handler", "amr", "/staff/queue"),
    ("lead", "amr", "/staff/queue"),
    ("supervisor", None, "/staff/queue"),
    ("admin", None, "/admin/"),
])
def test_staff_land_on_their_work(app, client, role, bureau, landing):
    make_staff(app, f"{role}-x", role, bureau)
    response = login(client, f"{role}-x")
    assert response.headers["Location"].endswith(landing)
    assert client.get(response.headers["Location"]).status_code == 200


def test_enterprise_lands_on_its_requests(app, client):
    make_enterprise(app, USCC_A)
    assert login(client, USCC_A).headers["Location"].endswith("/my/requests")


@pytest.mark.parametrize("target,landing", [("/progress", "/progress"), ("//evil.example/", "/staff/queue")])
def test_a_safe_next_wins_over_the_landing(app, client, target, landing):
    make_staff(app, "handler-one", "handler", "amr")
    response = client.post(f"/account/login?next={target}", data={"login": "handler-one", "password": PASSWORD,
                                                                  "csrf_token": csrf(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith(landing)


@pytest.mark.parametrize("password,number", [("a1" * 3, accounts.PASSWORD_MIN), ("a1" * 65, accounts.PASSWORD_MAX)])
def test_length_messages_name_the_enforced_limits(password, number):
    fields: dict[str, str] = {}
    accounts.check_password(password, fields=fields)
    assert f" {number} 位" in fields["password"]
    assert f"{number}" in accounts.password_rule()


def test_code_taken_links_also_in_english(app, client):
    make_enterprise(app, USCC_A)
    client.set_cookie("lang", "en")
    data = {"csrf_token": csrf(client, "/account/register"), "company": "另一家公司", "uscc": USCC_A,
            "contact_name": "王明", "mobile": "13907361235", "email": "wm@example.com", "township": "澧阳街道",
            "industry": "food", "size": "small", "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/account/register", data=data)
    assert response.status_code == 422
    assert len(soup(response).select("#uscc-taken a")) == 2
