"""Registration, login, logout, password reset, profile and API tokens through the pages."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.core.clock import utcnow
from services.models import Enterprise, OutboxMessage, User
from tests.helpers import PASSWORD, USCC_A, USCC_B, csrf, csrf_from, login, make_enterprise, soup


def register_data(client, **overrides):
    data = {"company": "澧县兰江食品有限公司", "uscc": USCC_A, "contact_name": "李华", "mobile": "139 0736 1234",
            "email": "lihua@example.com", "township": "澧阳街道", "industry": "food", "size": "small",
            "password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf(client, "/account/register")}
    data.update(overrides)
    return data


def errors_of(response) -> dict[str, str]:
    page = soup(response)
    return {p["id"][:-4]: p.get_text() for p in page.select(".field-error[id]")}


def test_register_logs_in_and_normalises(app, client, monkeypatch):
    monkeypatch.setattr(accounts, "HASH_METHOD", "scrypt")  # what production uses
    response = client.post("/account/register", data=register_data(client, uscc="91350100m000100y43 "))
    assert response.status_code == 302 and response.headers["Location"].endswith("/my/requests")
    page = soup(client.get("/my/requests"))
    assert "澧县兰江食品有限公司" in page.select_one(".account-bar").get_text()
    with app.app_context():
        e = db.session.scalar(select(Enterprise))
        assert (e.uscc, e.mobile) == (USCC_A, "13907361234")
        user = db.session.scalar(select(User))
        assert user.username == USCC_A and user.password_hash != PASSWORD and "scrypt" in user.password_hash


@pytest.mark.parametrize("field,value,message", [
    ("uscc", "91350100M000100Y44", "校验位"),
    ("uscc", "91350100M000100I43", "I"),
    ("uscc", "9135010", "18 位"),
    ("mobile", "0736-1234567", "手机"),
    ("email", "not-an-email", "邮箱"),
    ("township", "北京市", "乡镇"),
    ("industry", "space", "行业"),
    ("size", "huge", "规模"),
    ("password", "short1", "8 位"),
    ("password", "onlyletters", "字母和数字"),
])
def test_register_refuses_bad_fields(app, client, field, value, message):
    data = register_data(client, **{field: value})
    if field == "password":
        data["confirm"] = value
    response = client.post("/account/register", data=data)
    assert response.status_code == 422
    assert message in errors_of(response)[field]
    assert soup(response).select_one(".form-error-summary")
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_register_twice_with_one_code(app, client):
    make_enterprise(app, USCC_A)
    response = client.post("/account/register", data=register_data(client, company="另一家公司"))
    assert response.status_code == 422
    assert "已注册" in errors_of(response)["uscc"]


def test_passwords_must_match(client):
    response = client.post("/account/register", data=register_data(client, confirm="different1"))
    assert response.status_code == 422 and "不一致" in errors_of(response)["confirm"]


def test_script_in_company_name_is_stored_and_shown_escaped(app, client):
    response = client.post("/account/register", data=register_data(client, company="<script>alert(1)</script>厂"))
    assert response.status_code == 302
    body = client.get("/account/profile").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_stale_csrf_token_is_refused_and_nothing_saved(app, client):
    data = register_data(client)
    data["csrf_token"] = "stale-token"
    response = client.post("/account/register", data=data)
    assert response.status_code == 400
    assert "页面已过期" in soup(response).get_text()
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_login_by_code_or_username_and_logout(app, client):
    make_enterprise(app)
    login(client, "91350100m000100y43")
    assert client.get("/my/requests").status_code == 200
    token = csrf_from(client.get("/my/requests").data)
    assert client.post("/account/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/my/requests").status_code == 302


def test_logout_needs_csrf(app, client):
    make_enterprise(app)
    login(client, USCC_A)
    assert client.post("/account/logout").status_code == 400
    assert client.get("/my/requests").status_code == 200


def test_wrong_password_then_lock(app, client):
    make_enterprise(app)
    for i in range(4):
        response = client.post("/account/login", data={"login": USCC_A, "password": "wrong-pass1",
                                                       "csrf_token": csrf(client)})
        assert response.status_code == 401
        assert f"再错 {4 - i} 次" in soup(response).get_text()
    response = client.post("/account/login", data={"login": USCC_A, "password": "wrong-pass1",
                                                   "csrf_token": csrf(client)})
    assert "已锁定" in soup(response).get_text()
    response = client.post("/account/login", data={"login": USCC_A, "password": PASSWORD,
                                                   "csrf_token": csrf(client)})
    assert response.status_code == 401 and "锁定" in soup(response).get_text()
    with app.app_context():  # after the lock expires the right password works again
        user = db.session.scalar(select(User))
        user.locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    login(client, USCC_A)


def test_unknown_user_gets_the_same_message(client):
    response = client.post("/account/login", data={"login": "nobody", "password": "whatever1",
                                                   "csrf_token": csrf(client)})
    assert response.status_code == 401 and "用户名或密码不正确" in soup(response).get_text()


def test_remember_me_sets_a_cookie(app, client):
    make_enterprise(app)
    response = client.post("/account/login", data={"login": USCC_A, "password": PASSWORD, "remember": "y",
                                                   "csrf_token": csrf(client)})
    assert "remember_token" in response.headers.get("Set-Cookie", "") or any(
        "remember_token" in h for h in response.headers.getlist("Set-Cookie"))


def test_login_next_only_follows_local_paths(app, client):
    make_enterprise(app)
    response = client.post("/account/login?next=https://evil.example/", data={
        "login": USCC_A, "password": PASSWORD, "csrf_token": csrf(client)})
    assert "evil.example" not in response.headers["Location"]


def test_password_reset_by_emailed_token(app, client):
    make_enterprise(app)
    response = client.post("/account/reset", data={"login": USCC_A, "csrf_token": csrf(client, "/account/reset")})
    assert response.status_code == 302
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage))
        assert mail.to_addr == "lihua@example.com"
        link = re.search(r"http://localhost(/account/reset/\S+)", mail.body).group(1)
    response = client.post(link, data={"password": "newpassw0rd", "confirm": "newpassw0rd",
                                       "csrf_token": csrf(client, link)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
    login(client, USCC_A, "newpassw0rd")
    # The link works once only.
    client.post("/account/logout", data={"csrf_token": csrf(client, "/my/requests")})
    response = client.post(link, data={"password": "another1pass", "confirm": "another1pass",
                                       "csrf_token": csrf(client, link)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/reset")


def test_reset_for_unknown_account_says_the_same_and_sends_nothing(app, client):
    response = client.post("/account/reset", data={"login": "nobody", "csrf_token": csrf(client, "/account/reset")})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage)) is None


def test_tampered_reset_token(client):
    response = client.post("/account/reset/garbage", data={"password": "newpassw0rd", "confirm": "newpassw0rd",
                                                           "csrf_token": csrf(client, "/account/reset/garbage")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/reset")


def test_profile_edit(app, client):
    make_enterprise(app)
    login(client, USCC_A)
    token = csrf(client, "/account/profile")
    response = client.post("/account/profile", data={
        "company": "澧县兰江食品股份有限公司", "contact_name": "王芳", "mobile": "13807360000",
        "email": "wf@example.com", "township": "梦溪镇", "industry": "C", "size": "medium", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        e = db.session.scalar(select(Enterprise))
        assert (e.name, e.township, e.industry, e.uscc) == ("澧县兰江食品股份有限公司", "梦溪镇", "C", USCC_A)


def test_api_token_issue_use_and_revoke(app, client):
    make_enterprise(app)
    login(client, USCC_A)
    response = client.post("/account/tokens",
                           data={"tk-name": "ERP", "tk-csrf_token": csrf(client, "/account/profile")})
    token = soup(response).select_one("#token")["value"]
    assert token.startswith("lxq_")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/v1/requests", json={}, headers=headers).status_code == 422
    with app.app_context():
        token_id = accounts.active_tokens(db.session, db.session.scalar(select(User)))[0].id
        assert db.session.scalar(select(User)).tokens[0].token_hash != token
    response = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(client, "/account/profile")})
    assert response.status_code == 302
    assert api.post("/api/v1/requests", json={}, headers=headers).status_code == 401


def test_cannot_revoke_someone_elses_token(app, client):
    make_enterprise(app, USCC_A)
    make_enterprise(app, USCC_B, "另一家")
    with app.app_context():
        other = accounts.get_by_username(db.session, USCC_B)
        accounts.issue_token(db.session, other)
        other_token_id = other.tokens[0].id
    login(client, USCC_A)
    response = client.post(f"/account/tokens/{other_token_id}/revoke",
                           data={"csrf_token": csrf(client, "/account/profile")})
    assert response.status_code == 404


def test_registration_lists_industries_and_sizes_in_the_page_language(client):
    def options(name):
        return [o.get_text() for o in soup(client.get("/account/register")).select(f"select[name={name}] option")]

    assert options("industry")[:2] == ["请选择", "化妆品"] and "微型企业" in options("size")
    client.get("/lang/en")
    assert options("industry")[:2] == ["Please choose", "Cosmetics"] and "Micro enterprise" in options("size")
    client.get("/lang/zh")
    assert options("industry")[1] == "化妆品"  # chosen per request, not fixed at start-up
