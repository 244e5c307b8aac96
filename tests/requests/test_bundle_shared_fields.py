"""一件事一次办: a field several services of a bundle ask (产品名称 / 申报产品名称) is asked once and its
answer goes into every service's attributes; the other fields are grouped under their service."""
from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from services.models import Request, Service, ServiceField
from services.requests import fields as request_fields
from tests.helpers import csrf_from, login, soup


def _service(code: str, name: str, *fields: ServiceField) -> Service:
    return Service(code=code, name=name, fields=list(fields))


def _field(code: str, label: str, datatype: str = "string", required: bool = True, values=()) -> ServiceField:
    return ServiceField(code=code, label=label, datatype=datatype, required=required, description="",
                        values=[{"key": k, "name": k} for k in values])


def test_same_meaning_is_one_group_whatever_the_field_code():
    services = [
        _service("RZ-001", "绿色食品认证申报", _field("product_names", "申报产品名称", "text"),
                 _field("base_area", "基地面积（亩）", "number")),
        _service("PP-003", "品牌培育", _field("products", "产品名称"), _field("request_type", "申请事项",
                                                                          "singlevaluelist", values=("a", "b"))),
        _service("ZC-006", "地理标志", _field("product", "产品名称"), _field("apply_type", "申报类型",
                                                                        "singlevaluelist", values=("x", "y"))),
    ]
    groups = request_fields.field_groups(services)
    shared = [g for g in groups if g.shared]
    assert len(shared) == 1
    g = shared[0]
    assert g.label == "产品名称" and g.datatype == "text" and g.required
    assert [(s.code, f.code) for s, f in g.members] == [("RZ-001", "product_names"), ("PP-003", "products"),
                                                         ("ZC-006", "product")]
    assert len(groups) == 4  # 产品名称 once, plus each service's own field
    common, own = request_fields.sections(groups, services)
    assert common == [g]
    assert [(s.code, [x.label for x in gs]) for s, gs in own] == [
        ("RZ-001", ["基地面积（亩）"]), ("PP-003", ["申请事项"]), ("ZC-006", ["申报类型"])]
    attrs = request_fields.attributes(groups, {g.name: "澧县大米", **{x.name: None for x in groups if x is not g}})
    assert attrs["RZ-001"]["product_names"] == attrs["PP-003"]["products"] == attrs["ZC-006"]["product"] == "澧县大米"


def test_different_questions_stay_apart():
    services = [
        _service("JL-001", "计量检定", _field("preferred_date", "期望检定日期", "datetime", False),
                 _field("mode", "方式", "singlevaluelist", values=("onsite", "lab"))),
        _service("ZL-007", "培训", _field("preferred_date", "期望培训时间", "datetime", False),
                 _field("mode", "方式", "singlevaluelist", values=("online", "class"))),
    ]
    groups = request_fields.field_groups(services)
    assert not any(g.shared for g in groups)
    assert len({g.name for g in groups}) == 4


def _add_fields(app):
    with app.app_context():
        s = db.session
        svc = {x.code: x for x in s.scalars(select(Service).where(Service.code.in_(["JC-001", "ZC-001", "RZ-001"])))}
        svc["JC-001"].fields = [_field("product_name", "产品名称"), _field("sample_quantity", "样品数量", "number")]
        svc["ZC-001"].fields = [_field("trademark_name", "商标名称"), _field("product", "产品名称"),
                                _field("goods", "主要商品或服务", "text", False)]
        svc["RZ-001"].fields = [_field("product_names", "申报产品名称", "text"),
                                _field("base_area", "基地面积（亩）", "number")]
        s.commit()


def test_bundle_form_asks_shared_fields_once_and_groups_the_rest(app, client, people):
    _add_fields(app)
    login(client, people["a"])
    response = client.get("/apply?bundle=new-product")
    assert response.status_code == 200
    page = soup(response)
    labels = [label.get_text(strip=True) for label in page.select("form label")]
    assert labels.count("产品名称") == 1 and "申报产品名称" not in labels
    sections = page.select("fieldset.form-section")
    legends = [fs.select_one("legend").get_text(" ", strip=True) for fs in sections]
    assert legends[0].startswith("共用信息")
    assert "产品委托检验" in legends[1] and "商标注册便利化服务" in legends[2] and "绿色食品认证申报" in legends[3]
    shared = sections[0]
    assert [lb.get_text(strip=True) for lb in shared.select("label")] == ["产品名称"]
    assert "用于：产品委托检验、商标注册便利化服务、绿色食品认证申报" in shared.get_text()
    assert [lb.get_text(strip=True) for lb in sections[1].select("label")] == ["样品数量"]
    assert [lb.get_text(strip=True) for lb in sections[3].select("label")] == ["基地面积（亩）"]

    # an empty submit: each problem once, the shared one under its own label
    tokens = {"csrf_token": csrf_from(response.data),
              "idempotency_key": page.select_one("input[name=idempotency_key]")["value"]}
    empty = client.post("/apply", data={**tokens, "bundle": "new-product", "contact_name": "李华",
                                        "contact_mobile": "13907361234"})
    assert empty.status_code == 422
    items = [li.get_text(strip=True) for li in soup(empty).select(".form-error-summary li")]
    assert items == ["产品名称：此项为必填项", "样品数量：此项为必填项", "商标名称：此项为必填项",
                     "基地面积（亩）：此项为必填项"]

    answers = {**tokens, "bundle": "new-product", "contact_name": "李华", "contact_mobile": "13907361234",
               "f_product_name": "澧县香米 5kg", "f_sample_quantity": "3", "f_trademark_name": "澧香",
               "f_base_area": "120"}
    preview = client.post("/apply", data=answers)
    assert preview.status_code == 200, [li.get_text() for li in soup(preview).select(".form-error-summary li")]
    answers["csrf_token"] = csrf_from(preview.data)
    done = client.post("/apply/confirm", data=answers, content_type="multipart/form-data")
    assert done.status_code == 302
    with app.app_context():
        req = db.session.scalar(select(Request))
        attrs = {i.service.code: i.attributes for i in req.items}
    assert attrs["JC-001"]["product_name"] == "澧县香米 5kg"
    assert attrs["ZC-001"]["product"] == "澧县香米 5kg"
    assert attrs["RZ-001"]["product_names"] == "澧县香米 5kg"
