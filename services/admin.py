"""The admin console's overview: how many bureaus, categories, services, routing rules, bundles
and accounts there are, what needs attention (rules that can never match or are shadowed,
years the holiday calendar does not cover) and the latest changes from the audit log.

The admin console's domains have their own homes: the audit log in services.audit, bureaus and
categories in services.catalog.bureaus, services in services.catalog.guides, bundles in
services.catalog.bundles, routing rules in services.requests.routing_admin (the tester in
services.requests.routing_tester), staff accounts in services.accounts.staff and the holiday
calendar in services.tickets.holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.audit import AuditEntry, list_audit
from services.core.clock import local_today
from services.models import Bundle, Bureau, Category, Service, User
from services.requests import routing_admin
from services.tickets import workdays
from services.tickets.holidays import uncovered_warning


@dataclass
class Overview:
    bureaus: int
    categories: int
    services_published: int
    services_unpublished: int
    services_removed: int
    rules_active: int
    rules_total: int
    rules_flagged: int
    bundles: int
    bundles_published: int
    users_by_role: dict[str, int]
    users_inactive: int
    overrides_this_year: int
    calendar_warnings: list[str]
    recent: list[AuditEntry]


def overview(session: Session, today: date | None = None) -> Overview:
    today = today or local_today()
    svc = session.execute(
        select(Service.published, Service.removed_at.is_(None), func.count(Service.id)).group_by(
            Service.published, Service.removed_at.is_(None)
        )
    ).all()
    published = sum(n for pub, live, n in svc if pub and live)
    unpublished = sum(n for pub, live, n in svc if not pub and live)
    removed = sum(n for _pub, live, n in svc if not live)
    rules = routing_admin.list_rules(session)
    roles = dict(session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
    covered = workdays.covered_years()
    warnings = [
        uncovered_warning(y)
        for y in (today.year, today.year + 1)
        if y not in covered and not workdays.list_overrides(session, y)
    ]
    return Overview(
        bureaus=session.scalar(select(func.count(Bureau.id))) or 0,
        categories=session.scalar(select(func.count(Category.id))) or 0,
        services_published=published,
        services_unpublished=unpublished,
        services_removed=removed,
        rules_active=sum(1 for r in rules if r.rule.active),
        rules_total=len(rules),
        rules_flagged=sum(1 for r in rules if r.check.warnings),
        bundles=session.scalar(select(func.count(Bundle.id))) or 0,
        bundles_published=session.scalar(select(func.count(Bundle.id)).where(Bundle.published.is_(True)))
        or 0,
        users_by_role={r: roles.get(r, 0) for r in User.ROLES},
        users_inactive=session.scalar(select(func.count(User.id)).where(User.active.is_(False))) or 0,
        overrides_this_year=len(workdays.list_overrides(session, today.year)),
        calendar_warnings=warnings,
        recent=list_audit(session, per_page=8).entries,
    )

