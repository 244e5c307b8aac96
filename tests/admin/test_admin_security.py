"""Escaping of whatever admins type, CSRF on every change."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from services.models import Bureau, Service
from tests.admin.conftest import audit_rows, post_form, service_form
from tests.helpers import soup

SCRIPT = "<script>alert('x')</script>"


def test_script_tags_are_escaped_on_admin_pages(app, admin_client):
    assert (
        post_form(
            admin_client,
            "/admin/bureaus/new",
            {
                "code": "evil",
                "name": f"单位{SCRIPT}",
                "short_name": f"简{SCRIPT}",
                "phone": "",
                "address": SCRIPT,
                "office_hours": "",
                "description": SCRIPT,
            },
        ).status_code
        == 302
    )
    assert (
        post_form(
            admin_client,
            "/admin/services/new",
            service_form(
                name=f"服务{SCRIPT}",
                summary=SCRIPT,
                bureau="evil",
                **{"fields-0-label": SCRIPT, "fields-1-values": f"a={SCRIPT}"},
            ),
        ).status_code
        == 302
    )
    assert (
        post_form(
            admin_client,
            "/admin/rules/new",
            {"name": f"规则{SCRIPT}", "priority": "1", "bureau": "evil", "active": "y", "keywords": SCRIPT},
        ).status_code
        == 302
    )
    assert (
        post_form(
            admin_client,
            "/admin/bundles/new",
            {
                "code": "evil",
                "name": SCRIPT,
                "description": SCRIPT,
                "published": "",
                "services": "JL-900\nJL-001",
            },
        ).status_code
        == 302
    )
    rule_id = audit_rows(app, "routing_rule")[0].entity_key
    pages = [
        "/admin/",
        "/admin/audit",
        "/admin/bureaus",
        "/admin/bureaus/evil",
        "/admin/services",
        "/admin/services/JL-900",
        "/admin/rules",
        f"/admin/rules/{rule_id}",
        "/admin/bundles",
        "/admin/bundles/evil",
        "/admin/users",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert b"<script>" not in response.data, url
        assert soup(response).find("script") is None, url
    # failed validation echoes the input escaped too
    response = post_form(admin_client, "/admin/services/new", service_form(code=SCRIPT, materials=""))
    assert response.status_code == 422 and b"<script>" not in response.data
    response = post_form(
        admin_client, "/admin/rules/test", {"service": "", "description": SCRIPT, "attributes": SCRIPT}
    )
    assert b"<script>" not in response.data


def test_stale_csrf_token_is_refused(app, admin_client):
    response = admin_client.post(
        "/admin/bureaus/new",
        data={"csrf_token": "stale", "code": "x-bureau", "name": "某单位", "short_name": "某"},
    )
    assert response.status_code == 400
    assert "安全校验失败" in soup(response).get_text()
    response = admin_client.post("/admin/services/JL-001/publish", data={"published": "0"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Bureau).where(Bureau.code == "x-bureau")) is None
        assert db.session.scalar(select(Service.published).where(Service.code == "JL-001")) is True
    assert audit_rows(app) == []


def test_audit_page_lists_changes_newest_first_and_filters(app, admin_client):
    post_form(
        admin_client, "/admin/services/JL-001", {"published": "0"}, action="/admin/services/JL-001/publish"
    )
    post_form(admin_client, "/admin/holidays", {"day": "2026-06-15", "kind": "holiday", "note": "县庆"})
    page = soup(admin_client.get("/admin/audit"))
    entries = [li.select_one("p strong").get_text() for li in page.select("li.audit-entry")]
    assert entries == ["新增节假日调整", "下架服务事项"]
    assert "adm" in page.select_one("li.audit-entry .muted").get_text()
    page = soup(admin_client.get("/admin/audit?entity=service"))
    entries = page.select("li.audit-entry")
    assert len(entries) == 1 and "JL-001" in entries[0].get_text()
    lines = [li.get_text(" ", strip=True) for li in entries[0].select("ul.audit-changes li")]
    assert lines == ["已发布 修改前 是 → 修改后 否"]
