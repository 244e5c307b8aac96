"""Read side of the catalog for the public pages and the API: categories, bureaus, services,
and search with the results joined back to the database."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from search_index import Hit, SearchResult
from services.catalog.documents import public_services_query
from services.core import errors
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Bureau, Category, Service


class NotFound(errors.NotFound, LookupError):
    """The asked-for catalog entry does not exist or is not public (a services.core.errors.NotFound,
    so the app's error handlers answer it with a 404)."""


@dataclass
class CategoryCount:
    category: Category
    count: int


@dataclass
class BureauCount:
    bureau: Bureau
    count: int


@dataclass
class Overview:
    categories: list[CategoryCount]
    popular: list[Service]
    service_count: int
    online_count: int
    bureau_count: int


def _public():
    return (Service.published.is_(True), Service.removed_at.is_(None))


def categories_with_counts(session: Session) -> list[CategoryCount]:
    counts = dict(session.execute(
        select(Service.category_id, func.count(Service.id)).where(*_public()).group_by(Service.category_id)).all())
    return [CategoryCount(c, counts.get(c.id, 0))
            for c in session.scalars(select(Category).order_by(Category.position))]


def overview(session: Session, popular_limit: int = 8) -> Overview:
    popular = session.scalars(public_services_query().where(Service.popular.is_(True))
                              .order_by(Service.code).limit(popular_limit)).all()
    service_count = session.scalar(select(func.count(Service.id)).where(*_public())) or 0
    online_count = session.scalar(select(func.count(Service.id)).where(*_public(), Service.online.is_(True))) or 0
    bureau_count = session.scalar(select(func.count(func.distinct(Service.bureau_id))).where(*_public())) or 0
    return Overview(categories_with_counts(session), list(popular), service_count, online_count, bureau_count)


def get_category(session: Session, code: str) -> Category:
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise NotFound(_msg(N_("没有服务类别 %(code)s"), code=code))
    return category


def services_in_category(session: Session, category: Category) -> list[Service]:
    return list(session.scalars(public_services_query().where(Service.category_id == category.id)
                                .order_by(Service.popular.desc(), Service.code)))


def all_public_services(session: Session) -> list[Service]:
    return list(session.scalars(public_services_query().order_by(Service.category_id, Service.code)))


def get_service(session: Session, code: str) -> Service:
    service = session.scalar(public_services_query().where(Service.code == code)
                             .options(selectinload(Service.fields)))
    if service is None:
        raise NotFound(_msg(N_("服务 %(code)s 不存在"), code=code))
    return service


def related_services(session: Session, service: Service, limit: int = 4) -> list[Service]:
    return list(session.scalars(public_services_query()
                                .where(Service.category_id == service.category_id, Service.id != service.id)
                                .order_by(Service.popular.desc(), Service.code).limit(limit)))


def bureaus_with_counts(session: Session) -> list[BureauCount]:
    """Every bureau with its number of public services, for the directory: the joint office
    first (it routes what no bureau's service covers), then the bureaus with services, then those
    without (the directory shows them apart, with their contacts), each in the directory order."""
    counts = dict(session.execute(
        select(Service.bureau_id, func.count(Service.id)).where(*_public()).group_by(Service.bureau_id)).all())
    bureaus = session.scalars(select(Bureau).order_by(Bureau.joint_office.desc(), Bureau.position, Bureau.code))
    rows = [BureauCount(b, counts.get(b.id, 0)) for b in bureaus]
    return sorted(rows, key=lambda r: (not r.bureau.joint_office, r.count == 0))


def get_bureau(session: Session, code: str) -> Bureau:
    bureau = session.scalar(select(Bureau).where(Bureau.code == code))
    if bureau is None:
        raise NotFound(_msg(N_("没有单位 %(code)s"), code=code))
    return bureau


def services_of_bureau(session: Session, bureau: Bureau) -> list[Service]:
    return list(session.scalars(public_services_query().where(Service.bureau_id == bureau.id)
                                .order_by(Service.category_id, Service.code)))


def lookup_names(session: Session) -> tuple[dict[str, Category], dict[str, Bureau]]:
    """Categories and bureaus by code, for labelling facets."""
    return ({c.code: c for c in session.scalars(select(Category))},
            {b.code: b for b in session.scalars(select(Bureau))})


# --------------------------------------------------------------------------- search
@dataclass
class ServiceHit:
    service: Service
    hit: Hit


@dataclass
class Found:
    result: SearchResult
    hits: list[ServiceHit] = field(default_factory=list)


class BadQuery(ValueError):
    """A filter names something that does not exist; `field` says which."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


def search_services(session: Session, index: Any, q: str = "", *, category: str | None = None,
                    bureau: str | None = None, online: bool | None = None, page: int = 1,
                    per_page: int = 10, highlight: bool = True) -> Found:
    """Search the catalog and join the hits to their services (stale hits are dropped)."""
    if category and session.scalar(select(Category.id).where(Category.code == category)) is None:
        raise BadQuery("category", _msg(N_("未知的服务类别：%(code)s"), code=category))
    if bureau and session.scalar(select(Bureau.id).where(Bureau.code == bureau)) is None:
        raise BadQuery("bureau", _msg(N_("未知的责任单位：%(code)s"), code=bureau))
    result = index.search(q or "", category=category or None, bureau=bureau or None, online=online,
                          page=page, per_page=per_page, highlight=highlight)
    codes = [h.code for h in result.hits]
    services = {s.code: s for s in session.scalars(public_services_query().where(Service.code.in_(codes)))}
    return Found(result, [ServiceHit(services[h.code], h) for h in result.hits if h.code in services])
