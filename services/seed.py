"""Bundled starting data besides the catalog: 一件事 bundles and the first routing rules.

Bundles are upserted by code on every `init`; routing rules are loaded only into an empty
rules table, because admins own them once the portal runs.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.accounts import users as accounts
from services.core.transaction import atomic
from services.models import Bundle, BundleService, Bureau, RoutingRule, Service, User

DATA = Path(__file__).resolve().parent / "data"


def load_bundles(session: Session, path: Path = DATA / "bundles.json") -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    count = 0
    with atomic(session):
        services = {s.code: s for s in session.scalars(select(Service))}
        for pos, b in enumerate(data["bundles"], 1):
            missing = [c for c in b["services"] if c not in services]
            if missing:
                raise ValueError(f"一件事套餐 {b['code']} 引用了不存在的服务：{'、'.join(missing)}")
            bundle = session.scalar(select(Bundle).where(Bundle.code == b["code"])) or Bundle(code=b["code"])
            bundle.name, bundle.description, bundle.position = b["name"], b.get("description", ""), pos
            bundle.items.clear()
            session.flush()
            for i, code in enumerate(b["services"], 1):
                bundle.items.append(BundleService(service=services[code], position=i))
            session.add(bundle)
            count += 1
    return count


def load_routing_rules(session: Session, path: Path = DATA / "routing_rules.json") -> int:
    if session.scalar(select(func.count(RoutingRule.id))):
        return 0
    data = json.loads(path.read_text(encoding="utf-8"))
    with atomic(session):
        bureaus = {b.code: b for b in session.scalars(select(Bureau))}
        for r in data["rules"]:
            session.add(RoutingRule(name=r["name"], priority=r["priority"], bureau=bureaus[r["bureau"]],
                                    conditions=r["conditions"]))
    return len(data["rules"])


DEMO_PASSWORD = "demo2026"
DEMO_ACCOUNTS = (
    # username, role, bureau, uscc, company
    ("91430723MA4PQ2B7K9", "enterprise", None, "91430723MA4PQ2B7K9", "澧县兰江生物科技有限公司"),
    ("amr-handler", "handler", "amr", None, None),
    ("agri-handler", "handler", "agri", None, None),
    ("amr-lead", "lead", "amr", None, None),
    ("joint-office", "supervisor", "joint-office", None, None),
    ("admin", "admin", None, None, None),
)


def load_demo_accounts(session: Session) -> list[str]:
    """Accounts for trying the portal locally (password `demo2026`); existing ones are left alone."""
    created = []
    for username, role, bureau, code, company in DEMO_ACCOUNTS:
        if session.scalar(select(User.id).where(User.username == username)):
            continue
        if role == "enterprise":
            assert code is not None and company is not None  # every enterprise row above has both
            accounts.register_enterprise(session, accounts.EnterpriseProfile(
                company=company, uscc=code, contact_name="张敏", mobile="13907360001",
                email="demo-enterprise@example.com", township="澧阳街道", industry="cosmetics",
                size="small"), DEMO_PASSWORD)
        else:
            accounts.create_user(session, username, role, DEMO_PASSWORD, bureau=bureau,
                                 email=f"{username}@example.com")
        created.append(username)
    return created
