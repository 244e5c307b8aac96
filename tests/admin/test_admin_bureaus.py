"""Bureaus and categories in the admin console."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from services.models import Bureau, Category
from tests.admin.conftest import audit_rows, count, post_form, service_form
from tests.helpers import soup

NEW = {
    "code": "quality-lab",
    "name": "澧县质量检验检测中心",
    "short_name": "县质检中心",
    "phone": "0736-3200100",
    "address": "澧阳街道",
    "office_hours": "工作日",
    "description": "产品质量检验。",
}


def test_create_edit_and_delete_an_unused_bureau(app, admin_client):
    response = post_form(admin_client, "/admin/bureaus/new", NEW)
    assert response.status_code == 302
    assert "澧县质量检验检测中心" in soup(admin_client.get("/admin/bureaus")).get_text()
    assert admin_client.get("/bureaus/quality-lab").status_code == 200

    page = soup(admin_client.get("/admin/bureaus/quality-lab"))
    assert page.select_one("#code") is None  # the code cannot be changed
    response = post_form(
        admin_client,
        "/admin/bureaus/quality-lab",
        {**NEW, "code": "other", "phone": "0736-3200101", "joint_office": ""},
    )
    assert response.status_code == 302
    with app.app_context():
        bureau = db.session.scalar(select(Bureau).where(Bureau.code == "quality-lab"))
        assert bureau.phone == "0736-3200101"
    assert count(app, Bureau, Bureau.code == "other") == 0

    response = post_form(
        admin_client, "/admin/bureaus/quality-lab", {}, action="/admin/bureaus/quality-lab/delete"
    )
    assert response.status_code == 302
    assert count(app, Bureau, Bureau.code == "quality-lab") == 0
    rows = audit_rows(app, "bureau")
    assert [(r.action, r.entity_key) for r in rows] == [
        ("create", "quality-lab"),
        ("update", "quality-lab"),
        ("delete", "quality-lab"),
    ]
    assert rows[1].detail == {"before": {"phone": "0736-3200100"}, "after": {"phone": "0736-3200101"}}
    assert rows[2].detail["before"]["name"] == "澧县质量检验检测中心"


def test_bureau_input_checked_like_the_catalog_import(app, admin_client):
    response = post_form(admin_client, "/admin/bureaus/new", {**NEW, "code": "Bad Code", "short_name": ""})
    assert response.status_code == 422
    page = soup(response)
    assert "单位编码只能由小写字母、数字和连字符组成" in page.select_one("#code-err").get_text()
    assert "不能为空" in page.select_one("#short_name-err").get_text()
    response = post_form(admin_client, "/admin/bureaus/new", {**NEW, "code": "amr"})
    assert "已存在" in soup(response).select_one("#code-err").get_text()
    response = post_form(admin_client, "/admin/bureaus/new", {**NEW, "short_name": "县市场监管局"})
    assert "名称重复" in soup(response).select_one("#short_name-err").get_text()
    assert audit_rows(app) == []


def test_bureau_with_services_cannot_be_deleted(app, admin_client):
    response = post_form(
        admin_client,
        "/admin/bureaus/commerce",
        {},
        action="/admin/bureaus/commerce/delete",
        follow_redirects=True,
    )
    text = soup(response).get_text()
    assert "请先下架或改派相关服务" in text
    assert count(app, Bureau, Bureau.code == "commerce") == 1
    assert audit_rows(app, "bureau") == []
    # the edit page explains it before anyone tries
    assert "请先下架或改派相关服务" in soup(admin_client.get("/admin/bureaus/commerce")).get_text()


def test_bureau_rename_reaches_the_search_index(app, admin_client):
    page = soup(admin_client.get("/admin/bureaus/commerce"))
    data = {f["name"]: f.get("value", "") for f in page.select("form.stack-form input[name]")}
    data["description"] = ""
    data["short_name"] = "县商务和粮食局"
    assert post_form(admin_client, "/admin/bureaus/commerce", data).status_code == 302
    items = admin_client.get("/api/v1/services?q=县商务和粮食局").get_json()["items"]
    assert "PP-001" in [i["code"] for i in items]


def test_last_joint_office_keeps_its_flag(app, admin_client):
    page = soup(admin_client.get("/admin/bureaus/joint-office"))
    data = {
        f["name"]: f.get("value", "")
        for f in page.select("form.stack-form input[name]")
        if f.get("type") != "checkbox"
    }
    response = post_form(admin_client, "/admin/bureaus/joint-office", data)
    assert response.status_code == 422
    assert "联席会议办公室" in soup(response).select_one("#joint_office-err").get_text()


def test_categories_edit_but_not_create(app, admin_client):
    page = soup(admin_client.get("/admin/categories"))
    assert len(page.select("tbody tr")) == 7
    assert admin_client.get("/admin/categories/new").status_code == 404
    response = post_form(
        admin_client,
        "/admin/categories/brand",
        {"name": "", "name_en": "Brands", "description": "x", "position": "abc"},
    )
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#name-err") and page.select_one("#position-err")
    response = post_form(
        admin_client,
        "/admin/categories/brand",
        {"name": "品牌建设", "name_en": "Brands", "description": "品牌培育与老字号", "position": "2"},
    )
    assert response.status_code == 302
    with app.app_context():
        brand = db.session.scalar(select(Category).where(Category.code == "brand"))
        assert (brand.name, brand.name_en, brand.position) == ("品牌建设", "Brands", 2)
    assert "品牌建设" in soup(admin_client.get("/")).get_text()
    # a later service save through import_catalog does not undo it
    assert post_form(admin_client, "/admin/services/new", service_form()).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Category.name).where(Category.code == "brand")) == "品牌建设"
    rows = audit_rows(app, "category")
    assert len(rows) == 1 and rows[0].entity_key == "brand"
