"""Staff accounts: create, change role and bureau, deactivate, reset password."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from services.models import User
from tests.admin.conftest import audit_rows, post_form
from tests.helpers import PASSWORD, csrf, make_enterprise, soup

NEW = {
    "username": "amr-wang",
    "display_name": "王芳",
    "email": "wang@example.com",
    "role": "handler",
    "bureau": "amr",
    "password": "Lanjiang2026",
    "confirm": "Lanjiang2026",
}


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def try_login(app, username: str, password: str):
    client = app.test_client()
    return client.post(
        "/account/login", data={"login": username, "password": password, "csrf_token": csrf(client)}
    )


def test_create_staff_change_role_deactivate_and_reactivate(app, admin_client):
    response = post_form(admin_client, "/admin/users/new", NEW)
    assert response.status_code == 302
    uid = user_id(app, "amr-wang")
    assert try_login(app, "amr-wang", "Lanjiang2026").status_code == 302

    response = post_form(
        admin_client,
        f"/admin/users/{uid}",
        {"display_name": "王芳", "email": "wang@example.com", "role": "lead", "bureau": "agri"},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, uid)
        assert (user.role, user.bureau.code) == ("lead", "agri")

    response = post_form(
        admin_client, f"/admin/users/{uid}", {"active": "0"}, action=f"/admin/users/{uid}/active"
    )
    assert response.status_code == 302
    refused = try_login(app, "amr-wang", "Lanjiang2026")
    assert refused.status_code != 302 and "停用" in soup(refused).get_text()

    response = post_form(
        admin_client, f"/admin/users/{uid}", {"active": "1"}, action=f"/admin/users/{uid}/active"
    )
    assert try_login(app, "amr-wang", "Lanjiang2026").status_code == 302

    rows = audit_rows(app, "user")
    assert [(r.action, r.entity_key) for r in rows] == [
        ("create", "amr-wang"),
        ("update", "amr-wang"),
        ("deactivate", "amr-wang"),
        ("activate", "amr-wang"),
    ]
    assert rows[1].detail == {
        "before": {"role": "handler", "bureau": "amr"},
        "after": {"role": "lead", "bureau": "agri"},
    }
    assert "password" not in str(rows[0].detail).lower()


def test_a_logged_in_user_is_logged_out_when_deactivated(app, admin_client):
    post_form(admin_client, "/admin/users/new", NEW)
    staff = app.test_client()
    assert (
        staff.post(
            "/account/login",
            data={"login": "amr-wang", "password": "Lanjiang2026", "csrf_token": csrf(staff)},
        ).status_code
        == 302
    )
    assert staff.get("/staff/queue").status_code == 200
    uid = user_id(app, "amr-wang")
    post_form(admin_client, f"/admin/users/{uid}", {"active": "0"}, action=f"/admin/users/{uid}/active")
    assert staff.get("/staff/queue").status_code == 302


def test_staff_input_follows_the_account_rules(app, admin_client):
    response = post_form(
        admin_client,
        "/admin/users/new",
        {**NEW, "username": "a", "bureau": "", "password": "short", "confirm": "short"},
    )
    assert response.status_code == 422
    page = soup(response)
    for field in ("username", "bureau", "password"):
        assert page.select_one(f"#{field}-err") is not None, field
    response = post_form(admin_client, "/admin/users/new", {**NEW, "role": "enterprise"})
    assert response.status_code == 422 and page is not None
    response = post_form(admin_client, "/admin/users/new", {**NEW, "username": "adm"})
    assert "已被使用" in soup(response).select_one("#username-err").get_text()
    assert audit_rows(app) == []
    assert user_id(app, "amr-wang") is None


def test_reset_password(app, admin_client):
    post_form(admin_client, "/admin/users/new", NEW)
    uid = user_id(app, "amr-wang")
    response = post_form(
        admin_client,
        f"/admin/users/{uid}",
        {"pw-password": "12345678", "pw-confirm": "12345678"},
        action=f"/admin/users/{uid}/password",
    )
    assert response.status_code == 422
    assert soup(response).select_one("#pw-password-err") is not None
    response = post_form(
        admin_client,
        f"/admin/users/{uid}",
        {"pw-password": "Newpass2026", "pw-confirm": "Newpass2026"},
        action=f"/admin/users/{uid}/password",
    )
    assert response.status_code == 302
    assert try_login(app, "amr-wang", "Lanjiang2026").status_code != 302
    assert try_login(app, "amr-wang", "Newpass2026").status_code == 302
    row = audit_rows(app, "user")[-1]
    assert row.action == "reset_password" and "Newpass2026" not in str(row.detail)


def test_admin_cannot_lock_themselves_out(app, admin_client):
    uid = user_id(app, "adm")
    response = post_form(
        admin_client,
        f"/admin/users/{uid}",
        {"active": "0"},
        action=f"/admin/users/{uid}/active",
        follow_redirects=True,
    )
    assert "不能停用自己的账号" in soup(response).get_text()
    response = post_form(
        admin_client,
        f"/admin/users/{uid}",
        {"role": "handler", "bureau": "amr", "display_name": "", "email": ""},
    )
    assert response.status_code == 422
    assert "不能取消自己的管理员角色" in soup(response).select_one("#role-err").get_text()


def test_list_filters_by_role_and_bureau(app, admin_client):
    post_form(admin_client, "/admin/users/new", NEW)
    post_form(admin_client, "/admin/users/new", {**NEW, "username": "agri-li", "bureau": "agri"})
    make_enterprise(app)
    names = lambda r: [a.get_text() for a in soup(r).select("tbody th a")]  # noqa: E731
    assert names(admin_client.get("/admin/users?role=handler")) == ["agri-li", "amr-wang"]
    assert names(admin_client.get("/admin/users?bureau=agri")) == ["agri-li"]
    assert len(names(admin_client.get("/admin/users?role=enterprise"))) == 1
    assert admin_client.get("/admin/users?role=king").status_code == 400
    assert PASSWORD  # the helpers' accounts use it
