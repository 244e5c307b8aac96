"""一件事 bundles in the admin console."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from services.accounts.users import get_by_username
from services.models import Bundle
from services.requests import submission as reqsvc
from tests.admin.conftest import audit_rows, count, post_form
from tests.helpers import make_enterprise, soup

FORM = {
    "code": "start-up",
    "name": "新办企业质量服务",
    "description": "标准、检验、商标一次办",
    "published": "y",
    "services": "BZ-001\nJC-001\nZC-001",
}


def test_create_reorder_and_delete_a_bundle(app, admin_client):
    response = post_form(admin_client, "/admin/bundles/new", FORM, follow_redirects=True)
    assert response.status_code == 200
    public = soup(admin_client.get("/bundles")).get_text()
    assert "新办企业质量服务" in public
    response = post_form(
        admin_client,
        "/admin/bundles/start-up",
        {**FORM, "services": "ZC-001\nBZ-001", "published": ""},
        follow_redirects=True,
    )
    assert response.status_code == 200
    with app.app_context():
        bundle = db.session.scalar(select(Bundle).where(Bundle.code == "start-up"))
        assert [i.service.code for i in bundle.items] == ["ZC-001", "BZ-001"]
        assert [i.position for i in bundle.items] == [1, 2] and not bundle.published
    assert "新办企业质量服务" not in soup(admin_client.get("/bundles")).get_text()
    response = post_form(admin_client, "/admin/bundles", {}, action="/admin/bundles/start-up/delete")
    assert response.status_code == 302
    assert count(app, Bundle) == 0
    rows = audit_rows(app, "bundle")
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert rows[1].detail["before"]["services"] == ["BZ-001", "JC-001", "ZC-001"]
    assert rows[1].detail["after"]["services"] == ["ZC-001", "BZ-001"]


def test_bundle_input_is_checked(app, admin_client):
    for services, message in (
        ("BZ-001", "至少包含 2 项"),
        ("BZ-001\nBZ-001", "重复"),
        ("BZ-001\nXX-9", "XX-9"),
    ):
        response = post_form(admin_client, "/admin/bundles/new", {**FORM, "services": services})
        assert response.status_code == 422
        assert message in soup(response).select_one("#services-err").get_text()
    # a published bundle cannot hold a service enterprises cannot apply for online
    with app.app_context():
        from services.models import Service

        db.session.scalar(select(Service).where(Service.code == "JC-001")).published = False
        db.session.commit()
    response = post_form(admin_client, "/admin/bundles/new", FORM)
    assert "JC-001" in soup(response).select_one("#services-err").get_text()
    assert post_form(admin_client, "/admin/bundles/new", {**FORM, "published": ""}).status_code == 302
    page = soup(admin_client.get("/admin/bundles"))
    assert "JC-001" in page.select_one(".admin-warnings").get_text()
    assert count(app, Bundle) == 1


def test_bundle_with_requests_cannot_be_deleted(app, admin_client):
    assert post_form(admin_client, "/admin/bundles/new", FORM).status_code == 302
    login = make_enterprise(app)
    with app.app_context():
        user = get_by_username(db.session, login)
        reqsvc.submit(
            db.session,
            user,
            reqsvc.Submission(bundle="start-up", description="新办企业"),
            app.config["UPLOAD_DIR"],
        )
    response = post_form(
        admin_client,
        "/admin/bundles/start-up",
        {},
        action="/admin/bundles/start-up/delete",
        follow_redirects=True,
    )
    assert "不能删除，请改为不发布" in soup(response).get_text()
    assert count(app, Bundle) == 1
