"""Fixtures for the admin console: an admin account, a logged-in client, form helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from services.models import AuditLog
from tests.helpers import csrf_from, login, make_staff


@pytest.fixture
def admin_client(app, client):
    make_staff(app, "adm", "admin", None)
    login(client, "adm")
    return client


def post_form(client, page_url: str, data: dict, action: str | None = None, **kwargs):
    """GET the page for its CSRF token, then POST `data` to `action` (default: the page)."""
    token = csrf_from(client.get(page_url).data)
    return client.post(action or page_url, data={"csrf_token": token, **data}, **kwargs)


def audit_rows(app, entity: str | None = None) -> list[AuditLog]:
    with app.app_context():
        stmt = select(AuditLog).order_by(AuditLog.id)
        if entity:
            stmt = stmt.where(AuditLog.entity == entity)
        rows = list(db.session.scalars(stmt))
        for r in rows:
            _ = r.actor
        return rows


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def service_form(**overrides) -> dict:
    """A valid new-service form: a guide and two request fields."""
    data = {
        "code": "JL-900",
        "name": "电子计价秤首次检定",
        "category": "metrology",
        "bureau": "amr",
        "summary": "集贸市场电子计价秤投入使用前的首次强制检定。",
        "conditions": "在澧县经营的市场主体。",
        "materials": "申请书\n营业执照复印件",
        "process_steps": "网上申请\n送检或上门检定\n出具证书",
        "legal_basis": "《中华人民共和国计量法》",
        "time_limit_days": "5",
        "statutory_limit_days": "10",
        "fee": "不收费",
        "place": "县计量检定所",
        "hours": "工作日",
        "contact": "0736-3200009",
        "keywords": "计价秤，电子秤",
        "online": "y",
        "published": "y",
        "fields-0-code": "scales",
        "fields-0-label": "计价秤数量",
        "fields-0-datatype": "number",
        "fields-0-required": "y",
        "fields-0-description": "",
        "fields-0-values": "",
        "fields-1-code": "market",
        "fields-1-label": "所在市场",
        "fields-1-datatype": "singlevaluelist",
        "fields-1-description": "",
        "fields-1-values": "lanjiang=兰江市场\nxinzhou=新洲市场",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
