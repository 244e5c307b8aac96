"""Accounts and data many test folders use: enterprises A and B, staff of amr and agri, a
supervisor, the bundle 新产品上市 and a routing rule that sends 农残 tests to agri.

`people` is the fixture; `submit` is a plain helper (import it from here)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.models import Bundle, BundleService, Bureau, RoutingRule, Service
from services.requests import submission as reqsvc
from tests.helpers import USCC_A, USCC_B, make_enterprise, make_staff


@pytest.fixture
def people(app):
    """Usernames: enterprise A, enterprise B, amr handler, agri handler, supervisor."""
    a = make_enterprise(app, USCC_A, "澧县兰江食品有限公司")
    b = make_enterprise(app, USCC_B, "澧县澧水纺织有限公司", industry="textile", township="梦溪镇")
    amr = make_staff(app, "amr-h", "handler", "amr")
    agri = make_staff(app, "agri-h", "handler", "agri")
    sup = make_staff(app, "sup", "supervisor", None)
    with app.app_context():
        s = db.session
        services = {x.code: x for x in s.scalars(select(Service))}
        bundle = Bundle(code="new-product", name="新产品上市", description="检验、商标、标准一次办")
        for i, code in enumerate(["JC-001", "ZC-001", "RZ-001"], 1):
            bundle.items.append(BundleService(service=services[code], position=i))
        s.add(bundle)
        agri_bureau = s.scalar(select(Bureau).where(Bureau.code == "agri"))
        s.add(RoutingRule(name="农残检测归农业农村局", priority=10, bureau=agri_bureau,
                          conditions={"categories": ["testing"], "keywords": ["农残"]}))
        s.commit()
    return {"a": a, "b": b, "amr": amr, "agri": agri, "sup": sup}


def submit(app, username: str, services: list[str], attributes: dict | None = None) -> str:
    """Submit a request as this enterprise; returns the number of its first ticket."""
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        req, _ = reqsvc.submit(db.session, user, reqsvc.Submission(services=services, attributes=attributes or {}),
                               app.config["UPLOAD_DIR"])
        return req.tickets[0].number
