"""Bundled starting data besides the catalog: 一件事 bundles, the first routing rules, and the demo
accounts and enterprises for local trying-out (their requests: services/demo).

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
    # username, role, bureau, uscc, company, name — the accounts the README names for each role
    ("91430723MA4PQ2B7K9", "enterprise", None, "91430723MA4PQ2B7K9", "澧县兰江生物科技有限公司", "张敏"),
    ("93430723MA4R8K3N2L", "enterprise", None, "93430723MA4R8K3N2L", "澧县城头山生态农业专业合作社", "李秋云"),
    ("amr-handler", "handler", "amr", None, None, "李卫东"),
    ("amr-handler2", "handler", "amr", None, None, "周晓芳"),
    ("amr-lead", "lead", "amr", None, None, "王建国"),
    ("agri-handler", "handler", "agri", None, None, "陈春花"),
    ("agri-lead", "lead", "agri", None, None, "刘志刚"),
    ("sti-handler", "handler", "sti", None, None, "赵明"),
    ("miit-handler", "handler", "miit", None, None, "孙丽"),
    ("commerce-handler", "handler", "commerce", None, None, "吴敏"),
    ("fin-handler", "handler", "fin", None, None, "郑凯"),
    ("joint-office", "supervisor", "joint-office", None, None, "黄晓东"),
    ("admin", "admin", None, None, None, "系统管理员"),
)
#: The demo county's enterprises (services/demo.py submits their requests), all with DEMO_PASSWORD:
#: uscc -> company, contact, mobile, e-mail, township, industry, size.
DEMO_ENTERPRISES = {
    "91430723MA4PQ2B7K9": ("澧县兰江生物科技有限公司", "张敏", "13907360001", "demo-enterprise@example.com",
                           "澧阳街道", "cosmetics", "small"),
    "93430723MA4R8K3N2L": ("澧县城头山生态农业专业合作社", "李秋云", "13907360002", "demo-coop@example.com",
                           "城头山镇", "A", "micro"),
    "91430723MA4L5T6W83": ("湖南澧州药业有限公司", "何建平", "13907360003", "demo-pharma@example.com",
                           "澧县经济开发区", "biomedicine", "medium"),
    "91430723MA4N2H7X5D": ("澧县澧浦纺织服饰有限公司", "罗芳", "13907360004", "demo-textile@example.com",
                           "澧浦街道", "textile", "medium"),
    "91430723MA4K9D3F1D": ("澧县药山中药材种植有限公司", "彭国华", "13907360005", "demo-herbs@example.com",
                           "火连坡镇", "herbs", "small"),
    "91430723MA4M6G8R3X": ("澧县梦溪食品有限公司", "龚丽", "13907360006", "demo-food@example.com",
                           "梦溪镇", "food", "small"),
    "91430723MA4P7J2T6H": ("澧县兴澧智慧物流有限公司", "谭斌", "13907360007", "demo-logistics@example.com",
                           "小渡口镇", "logistics", "small"),
    "91430723MA4Q3L5U9Y": ("澧县绿源新能源科技有限公司", "熊伟", "13907360008", "demo-green@example.com",
                           "澧西街道", "green", "medium"),
}


def load_demo_accounts(session: Session) -> list[str]:
    """Accounts for trying the portal locally (password `demo2026`): the staff above and every demo
    enterprise; existing ones are left alone."""
    created = []
    for username, role, bureau, _code, _company, name in DEMO_ACCOUNTS:
        if role == "enterprise" or session.scalar(select(User.id).where(User.username == username)):
            continue
        accounts.create_user(session, username, role, DEMO_PASSWORD, bureau=bureau,
                             email=f"{username}@example.com", display_name=name)
        created.append(username)
    for code, (company, contact, mobile, email, township, industry, size) in DEMO_ENTERPRISES.items():
        if session.scalar(select(User.id).where(User.username == code)):
            continue
        accounts.register_enterprise(session, accounts.EnterpriseProfile(
            company=company, uscc=code, contact_name=contact, mobile=mobile, email=email, township=township,
            industry=industry, size=size), DEMO_PASSWORD)
        created.append(code)
    return created
