"""Services in the admin console: create with request fields, publish/unpublish with the
public pages and the search index following at once, the catalog's validation, delete."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db, search
from services.accounts.users import get_by_username
from services.catalog import directory
from services.models import AuditLog, Service, ServiceField
from services.requests import submission as reqsvc
from tests.admin.conftest import audit_rows, count, post_form, service_form
from tests.helpers import make_enterprise, soup


def found(app, q: str) -> list[str]:
    with app.app_context():
        return [h.service.code for h in directory.search_services(db.session, search.index, q).hits]


def api_codes(client, q: str) -> list[str]:
    return [i["code"] for i in client.get(f"/api/v1/services?q={q}").get_json()["items"]]


def test_create_service_with_fields_is_public_and_searchable_at_once(app, admin_client):
    response = post_form(admin_client, "/admin/services/new", service_form())
    assert response.status_code == 302, soup(response).get_text()[:2000]
    assert response.headers["Location"].endswith("/admin/services/JL-900")

    page = admin_client.get("/services/JL-900")
    assert page.status_code == 200
    text = soup(page).get_text()
    assert "电子计价秤首次检定" in text and "营业执照复印件" in text and "出具证书" in text
    assert "JL-900" in found(app, "计价秤")
    assert "JL-900" in api_codes(admin_client, "计价秤")
    with app.app_context():
        service = db.session.scalar(select(Service).where(Service.code == "JL-900"))
        assert [(f.code, f.datatype, f.required) for f in service.fields] == [
            ("scales", "number", True),
            ("market", "singlevaluelist", False),
        ]
        assert service.fields[1].values == [
            {"key": "lanjiang", "name": "兰江市场"},
            {"key": "xinzhou", "name": "新洲市场"},
        ]
        assert service.statutory_limit_days == 10 and service.keywords == ["计价秤", "电子秤"]
    guide = admin_client.get("/api/v1/services/JL-900").get_json()
    assert "所在市场" in str(guide) and "计价秤数量" in str(guide)

    # unpublish: gone from the guide page and from search, at once
    response = post_form(
        admin_client, "/admin/services/JL-900", {"published": "0"}, action="/admin/services/JL-900/publish"
    )
    assert response.status_code == 302
    assert admin_client.get("/services/JL-900").status_code == 404
    assert "JL-900" not in found(app, "计价秤")
    assert "JL-900" not in api_codes(admin_client, "计价秤")
    listing = soup(admin_client.get("/admin/services?status=unpublished"))
    assert "JL-900" in listing.get_text()

    # publish again
    response = post_form(
        admin_client, "/admin/services/JL-900", {"published": "1"}, action="/admin/services/JL-900/publish"
    )
    assert response.status_code == 302
    assert admin_client.get("/services/JL-900").status_code == 200
    assert "JL-900" in found(app, "计价秤")

    actions = [(r.action, r.entity_key, r.actor.username) for r in audit_rows(app, "service")]
    assert actions == [
        ("create", "JL-900", "adm"),
        ("unpublish", "JL-900", "adm"),
        ("publish", "JL-900", "adm"),
    ]
    assert audit_rows(app, "service")[1].detail == {
        "before": {"published": True},
        "after": {"published": False},
    }


def test_edit_service_updates_guide_fields_and_index(app, admin_client):
    page = admin_client.get("/admin/services/JL-001")
    form = soup(page).select_one("form.service-form")
    data = {}
    for el in form.select("input[name], textarea[name], select[name]"):
        name = el["name"]
        if el.name == "textarea":
            data[name] = el.get_text().lstrip("\n")
        elif el.name == "select":
            opt = el.select_one("option[selected]")
            data[name] = opt["value"] if opt else ""
        elif el.get("type") == "checkbox":
            if el.has_attr("checked"):
                data[name] = el["value"]
        else:
            data[name] = el.get("value", "")
    data.pop("csrf_token")
    data["name"] = "汽车衡检定（地磅年检）"
    data["keywords"] = data["keywords"] + "\n大磅"
    data["fields-1-values"] = "onsite=上门检定\nlab=送实验室检定\nremote=远程核查"
    response = post_form(admin_client, "/admin/services/JL-001", data)
    assert response.status_code == 302, soup(response).get_text()[:2000]
    assert "汽车衡检定（地磅年检）" in soup(admin_client.get("/services/JL-001")).get_text()
    assert "JL-001" in found(app, "大磅")
    with app.app_context():
        mode = db.session.scalar(
            select(ServiceField).join(Service).where(Service.code == "JL-001", ServiceField.code == "mode")
        )
        assert [v["key"] for v in mode.values] == ["onsite", "lab", "remote"]
    row = audit_rows(app, "service")[-1]
    assert row.action == "update" and row.entity_key == "JL-001"
    assert row.detail["before"]["name"] == "汽车衡（地磅）检定"
    assert row.detail["after"]["name"] == "汽车衡检定（地磅年检）"
    assert "materials" not in row.detail["after"]  # only what changed

    # saving again unchanged writes nothing
    response = post_form(admin_client, "/admin/services/JL-001", {**data, "name": "汽车衡检定（地磅年检）"})
    assert response.status_code == 302
    assert len(audit_rows(app, "service")) == 1


def test_field_rows_can_be_added_moved_and_removed_before_saving(app, admin_client):
    data = service_form()
    response = post_form(admin_client, "/admin/services/new", {**data, "field_op": "add"})
    page = soup(response)
    assert response.status_code == 200
    assert page.select_one("#fields-2-code") is not None
    response = post_form(admin_client, "/admin/services/new", {**data, "field_op": "down-0"})
    page = soup(response)
    assert page.select_one("#fields-0-code")["value"] == "market"
    assert page.select_one("#fields-1-code")["value"] == "scales"
    response = post_form(admin_client, "/admin/services/new", {**data, "field_op": "remove-0"})
    page = soup(response)
    assert page.select_one("#fields-0-code")["value"] == "market"
    assert page.select_one("#fields-1-code") is None
    assert count(app, Service, Service.code == "JL-900") == 0  # nothing saved yet


BAD = [
    ({"materials": ""}, "materials", "必填项不能为空"),
    ({"time_limit_days": "五天"}, "time_limit_days", "应为整数"),
    ({"bureau": "nowhere"}, "bureau", "未知的责任单位"),
    ({"fields-0-datatype": "colour"}, "fields-0-datatype", "未知的数据类型"),
    ({"fields-1-values": ""}, "fields-1-values", "列表类型的字段需要至少一个选项"),
    ({"fields-1-code": "scales"}, "fields-1-code", "重复"),
]


@pytest.mark.parametrize("change, field_id, message", BAD)
def test_invalid_guide_data_is_refused_with_the_catalog_message(app, admin_client, change, field_id, message):
    services_before = count(app, Service)
    response = post_form(admin_client, "/admin/services/new", service_form(**change))
    assert response.status_code == 422
    page = soup(response)
    error = page.select_one(f"#{field_id}-err")
    assert error is not None and message in error.get_text(), page.select_one(".form-error-summary")
    summary = page.select_one(".form-error-summary")
    assert summary is not None and summary.select_one(f'a[href="#{field_id}"]') is not None
    assert page.select_one(f"#{field_id}")["aria-invalid"] == "true"
    assert count(app, Service) == services_before
    assert count(app, AuditLog) == 0
    assert "JL-900" not in found(app, "计价秤")


def test_invalid_edit_keeps_the_stored_guide(app, admin_client):
    response = post_form(admin_client, "/admin/services/new", service_form())
    assert response.status_code == 302
    response = post_form(admin_client, "/admin/services/JL-900", service_form(name="", time_limit_days="0"))
    assert response.status_code == 422
    page = soup(response)
    assert "必填项不能为空" in page.select_one("#name-err").get_text()
    assert "应在 1 到 365 个工作日之间" in page.select_one("#time_limit_days-err").get_text()
    with app.app_context():
        assert db.session.scalar(select(Service.name).where(Service.code == "JL-900")) == "电子计价秤首次检定"
    assert len(audit_rows(app, "service")) == 1


def test_duplicate_service_code_refused(app, admin_client):
    response = post_form(admin_client, "/admin/services/new", service_form(code="JL-001"))
    assert response.status_code == 422
    assert "已被使用" in soup(response).select_one("#code-err").get_text()
    with app.app_context():
        assert db.session.scalar(select(Service.name).where(Service.code == "JL-001")) == "汽车衡（地磅）检定"


def test_delete_refused_when_a_request_uses_the_service_else_deleted(app, admin_client):
    login = make_enterprise(app)
    with app.app_context():
        user = get_by_username(db.session, login)
        reqsvc.submit(
            db.session,
            user,
            reqsvc.Submission(services=["BZ-001"], description="企业标准公开"),
            app.config["UPLOAD_DIR"],
        )
    response = post_form(
        admin_client,
        "/admin/services/BZ-001",
        {},
        action="/admin/services/BZ-001/delete",
        follow_redirects=True,
    )
    assert "已有办件引用，请改为下架" in soup(response).select_one(".flash-error").get_text()
    assert count(app, Service, Service.code == "BZ-001") == 1
    assert audit_rows(app, "service") == []

    response = post_form(admin_client, "/admin/services/ZC-002", {}, action="/admin/services/ZC-002/delete")
    assert response.status_code == 302
    assert count(app, Service, Service.code == "ZC-002") == 0
    assert admin_client.get("/services/ZC-002").status_code == 404
    assert "ZC-002" not in found(app, "专利申请预审")
    row = audit_rows(app, "service")[-1]
    assert (row.action, row.entity_key) == ("delete", "ZC-002")
    assert row.detail["before"]["name"] == "专利申请预审"


def test_list_filters_and_search(app, admin_client):
    page = soup(admin_client.get("/admin/services?category=testing"))
    codes = [a.get_text() for a in page.select("table .code")]
    assert codes == ["JC-001", "JC-002"]
    page = soup(admin_client.get("/admin/services?bureau=agri"))
    assert [a.get_text() for a in page.select("table .code")] == ["JC-002", "RZ-001"]
    page = soup(admin_client.get("/admin/services?q=地磅"))
    assert [a.get_text() for a in page.select("table .code")] == ["JL-001"]
    assert admin_client.get("/admin/services?category=nope").status_code == 400


def test_category_edits_survive_a_service_save(app, admin_client):
    response = post_form(
        admin_client,
        "/admin/categories/metrology",
        {"name": "计量服务", "name_en": "Metrology services", "description": "检定校准", "position": "1"},
    )
    assert response.status_code == 302
    assert "计量服务" in soup(admin_client.get("/categories/metrology")).get_text()
    assert post_form(admin_client, "/admin/services/new", service_form()).status_code == 302
    assert "计量服务" in soup(admin_client.get("/categories/metrology")).get_text()
    row = audit_rows(app, "category")[0]
    assert row.detail["before"]["name"] == "计量" and row.detail["after"]["name"] == "计量服务"
