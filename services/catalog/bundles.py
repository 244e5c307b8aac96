"""Admin console: 一件事 bundles (one submission fanned out to several bureaus) — which
services each holds, in which order, and whether enterprises can apply for it as it stands.

A published bundle holds only published services that can be applied for online. Every change
writes an AuditLog row in the same transaction (services.audit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.audit import audit
from services.catalog.problems import TOO_LONG
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_, Text
from services.core.transaction import atomic
from services.models import Bundle, BundleService, Request, Service, User

BUNDLE_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
MIN_BUNDLE_SERVICES = 2


@dataclass
class BundleInput:
    code: str = ""
    name: str = ""
    description: str = ""
    published: bool = True
    services: list[str] = field(default_factory=list)


@dataclass
class BundleRow:
    bundle: Bundle
    warnings: list[str]
    requests: int


def bundle_record(bundle: Bundle) -> dict[str, Any]:
    return {
        "code": bundle.code,
        "name": bundle.name,
        "description": bundle.description,
        "published": bundle.published,
        "services": [i.service.code for i in bundle.items],
    }


def bundle_warnings(bundle: Bundle) -> list[str]:
    """Why enterprises could not apply for this bundle as it stands."""
    out: list[str] = []
    hidden = [i.service.code for i in bundle.items if not i.service.is_public]
    offline = [i.service.code for i in bundle.items if i.service.is_public and not i.service.online]
    if hidden:
        out.append(Text(N_("以下服务未发布或已移出目录，企业无法申请本套餐：%(codes)s"), codes=hidden))
    if offline:
        out.append(Text(N_("以下服务不能网上申请，企业无法申请本套餐：%(codes)s"), codes=offline))
    if len(bundle.items) < MIN_BUNDLE_SERVICES:
        out.append(Text(N_("套餐至少应包含 %(n)s 项服务"), n=MIN_BUNDLE_SERVICES))
    return out


def _bundles_query():
    return select(Bundle).options(selectinload(Bundle.items).selectinload(BundleService.service))


def list_bundles(session: Session) -> list[BundleRow]:
    counts = dict(
        session.execute(
            select(Request.bundle_id, func.count(Request.id))
            .where(Request.bundle_id.is_not(None))
            .group_by(Request.bundle_id)
        ).all()
    )
    return [
        BundleRow(b, bundle_warnings(b), counts.get(b.id, 0))
        for b in session.scalars(_bundles_query().order_by(Bundle.position, Bundle.code))
    ]


def get_bundle(session: Session, code: str) -> Bundle:
    bundle = session.scalar(_bundles_query().where(Bundle.code == code))
    if bundle is None:
        raise NotFound(Text(N_("没有一件事套餐 %(code)s"), code=code))
    return bundle


def save_bundle(session: Session, actor: User, data: BundleInput, *, code: str | None = None) -> Bundle:
    """Create a bundle (`code` None) or change bundle `code` (its code stays)."""
    existing = get_bundle(session, code) if code is not None else None
    fields: dict[str, str] = {}
    new_code = existing.code if existing else (data.code or "").strip()
    if existing is None:
        if not new_code:
            fields["code"] = Text(N_("请填写套餐编码"))
        elif not BUNDLE_CODE_RE.match(new_code):
            fields["code"] = Text(N_("套餐编码 2–32 位，只能含小写字母、数字和连字符"))
        elif session.scalar(select(Bundle.id).where(Bundle.code == new_code)):
            fields["code"] = Text(N_("套餐编码 %(code)s 已被使用"), code=new_code)
    name = (data.name or "").strip()
    description = (data.description or "").strip()
    if not name:
        fields["name"] = Text(N_("请填写套餐名称"))
    elif len(name) > 200:
        fields["name"] = Text(TOO_LONG, max=200)
    if len(description) > 2000:
        fields["description"] = Text(TOO_LONG, max=2000)
    codes = [c.strip() for c in data.services if c and c.strip()]
    services: list[Service] = []
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    found = (
        {s.code: s for s in session.scalars(select(Service).where(Service.code.in_(codes)))} if codes else {}
    )
    unknown = [c for c in codes if c not in found or found[c].removed_at is not None]
    if dupes:
        fields["services"] = Text(N_("服务重复：%(codes)s"), codes=dupes)
    elif unknown:
        fields["services"] = Text(N_("没有这些服务（或已移出目录）：%(codes)s"), codes=unknown)
    elif len(codes) < MIN_BUNDLE_SERVICES:
        fields["services"] = Text(N_("一件事套餐至少包含 %(n)s 项服务"), n=MIN_BUNDLE_SERVICES)
    else:
        services = [found[c] for c in codes]
        if data.published:
            blocked = [s.code for s in services if not s.is_public or not s.online]
            if blocked:
                fields["services"] = Text(
                    N_("发布的套餐只能包含已发布、可网上申请的服务：%(codes)s 不符合。可先保存为未发布。"),
                    codes=blocked,
                )
    if fields:
        raise ValidationFailed(fields)
    before = bundle_record(existing) if existing else None
    after = {
        "code": new_code,
        "name": name,
        "description": description,
        "published": bool(data.published),
        "services": codes,
    }
    with atomic(session):
        if existing is None:
            position = (session.scalar(select(func.max(Bundle.position))) or 0) + 1
            bundle = Bundle(code=new_code, position=position)
            session.add(bundle)
        else:
            bundle = existing
        bundle.name, bundle.description, bundle.published = name, description, bool(data.published)
        if [i.service.code for i in bundle.items] != codes:
            bundle.items.clear()
            session.flush()
            for pos, s in enumerate(services, 1):
                bundle.items.append(BundleService(service=s, position=pos))
        if before is None:
            audit(session, actor, "create", "bundle", new_code, after=after)
        elif before != after:
            audit(session, actor, "update", "bundle", new_code, before=before, after=after)
    return bundle


def delete_bundle(session: Session, actor: User, code: str) -> None:
    bundle = get_bundle(session, code)
    used = session.scalar(select(func.count(Request.id)).where(Request.bundle_id == bundle.id)) or 0
    if used:
        raise Conflict(
            Text(N_("已有 %(n)s 份申请使用一件事套餐“%(name)s”，不能删除，请改为不发布。"), n=used, name=bundle.name)
        )
    with atomic(session):
        audit(session, actor, "delete", "bundle", code, before=bundle_record(bundle))
        session.delete(bundle)

