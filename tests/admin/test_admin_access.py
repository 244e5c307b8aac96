"""Who may use the admin console: anonymous -> login, other roles -> 403, admin -> 200."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.access import access_of
from portal.extensions import db
from services.models import Bundle, BundleService, Bureau, RoutingRule, Service, User
from tests.helpers import csrf, login, make_enterprise, make_staff

PAGES = [
    "/admin/",
    "/admin/audit",
    "/admin/bureaus",
    "/admin/bureaus/new",
    "/admin/bureaus/amr",
    "/admin/categories",
    "/admin/categories/metrology",
    "/admin/services",
    "/admin/services/new",
    "/admin/services/JL-001",
    "/admin/rules",
    "/admin/rules/new",
    "/admin/rules/{rule}",
    "/admin/rules/test",
    "/admin/bundles",
    "/admin/bundles/new",
    "/admin/bundles/b1",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/holidays",
]
POSTS = [
    "/admin/bureaus/new",
    "/admin/bureaus/amr/delete",
    "/admin/services/JL-001/publish",
    "/admin/services/JL-001/delete",
    "/admin/rules/{rule}/active",
    "/admin/rules/{rule}/delete",
    "/admin/bundles/b1/delete",
    "/admin/users/{user}/active",
    "/admin/users/{user}/password",
    "/admin/holidays",
    "/admin/holidays/2026-06-15/delete",
    "/admin/categories/metrology",
]


@pytest.fixture
def ids(app):
    make_staff(app, "adm", "admin", None)
    with app.app_context():
        s = db.session
        agri = s.scalar(select(Bureau).where(Bureau.code == "agri"))
        rule = RoutingRule(name="r", priority=1, bureau=agri, conditions={"categories": ["testing"]})
        bundle = Bundle(code="b1", name="套餐")
        for i, code in enumerate(("JC-001", "ZC-001"), 1):
            bundle.items.append(
                BundleService(service=s.scalar(select(Service).where(Service.code == code)), position=i)
            )
        s.add_all([rule, bundle])
        s.commit()
        return {"rule": rule.id, "user": s.scalar(select(User.id).where(User.username == "adm"))}


def urls(templates, ids):
    return [u.format(**ids) for u in templates]


def test_every_admin_endpoint_is_marked_admin_only(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            assert access_of(app.view_functions[rule.endpoint]) == "login:admin", rule.endpoint


def test_anonymous_users_go_to_the_login_page(app, client, ids):
    for url in urls(PAGES, ids):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["enterprise", "handler", "lead", "supervisor"])
def test_other_roles_are_refused(app, client, ids, role):
    if role == "enterprise":
        username = make_enterprise(app)
    else:
        username = make_staff(app, f"u-{role}", role, "amr" if role in ("handler", "lead") else None)
    login(client, username)
    for url in urls(PAGES, ids):
        assert client.get(url).status_code == 403, url
    token = csrf(client, "/")
    for url in urls(POSTS, ids):
        assert (
            client.post(url, data={"csrf_token": token, "published": "0", "active": "0"}).status_code == 403
        ), url
    with app.app_context():
        assert db.session.scalar(select(Service.published).where(Service.code == "JL-001")) is True


def test_admin_sees_every_page(app, client, ids):
    login(client, "adm")
    for url in urls(PAGES, ids):
        response = client.get(url)
        assert response.status_code == 200, url
