"""The search documents of the public catalog: which services are public, and what the search
index holds of each (see search_index.CatalogIndex).

Plain reads with no dependencies on the rest of the catalog, so the search outbox
(services.outbox) and the directory can use them without importing the catalog's writers.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.models import Service


def public_services_query():
    return (select(Service)
            .where(Service.published.is_(True), Service.removed_at.is_(None))
            .options(selectinload(Service.category), selectinload(Service.bureau)))


def service_doc(service: Service) -> dict[str, Any]:
    """The search document of a service (see search_index.CatalogIndex)."""
    return {
        "code": service.code, "name": service.name, "category": service.category.code,
        "category_name": service.category.name, "bureau": service.bureau.code,
        "bureau_name": f"{service.bureau.name} {service.bureau.short_name}", "summary": service.summary,
        "keywords": list(service.keywords or []), "conditions": service.conditions,
        "materials": list(service.materials or []), "process": list(service.process or []),
        "legal_basis": service.legal_basis, "online": service.online, "popular": service.popular,
    }


def iter_docs(session: Session) -> Iterable[dict[str, Any]]:
    for service in session.scalars(public_services_query().order_by(Service.code)):
        yield service_doc(service)


def count_public_services(session: Session) -> int:
    return session.scalar(select(func.count(Service.id)).where(
        Service.published.is_(True), Service.removed_at.is_(None))) or 0

