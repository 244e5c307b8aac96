from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _

from portal.access import public
from portal.extensions import db, search
from portal.params import ParamError, parse_catalog_query
from portal.public import bp
from portal.public.cache import cached_page
from services.catalog import directory
from services.catalog.directory import BadQuery
from services.core.errors import ServiceError
from services.requests import routing


def _joint_office():
    """The joint office (its name and phone are offered where a visitor may not find a service),
    or None while none is set up."""
    try:
        return routing.joint_office(db.session)
    except ServiceError:
        return None


@bp.get("/")
@public
@cached_page
def home():
    overview = directory.overview(db.session, current_app.config["POPULAR_SERVICES"])
    return render_template("public/home.html", overview=overview, joint_office=_joint_office())


@bp.get("/categories/<code>")
@public
@cached_page
def category(code: str):
    cat = directory.get_category(db.session, code)  # NotFound: the 404 page (portal/errors.py)
    return render_template("public/category.html", category=cat,
                           services=directory.services_in_category(db.session, cat),
                           categories=directory.categories_with_counts(db.session))


@bp.get("/services/<code>")
@public
@cached_page
def service(code: str):
    svc = directory.get_service(db.session, code)
    return render_template("public/service.html", service=svc,
                           related=directory.related_services(db.session, svc))


@bp.get("/bureaus")
@public
@cached_page
def bureaus():
    return render_template("public/bureaus.html", bureaus=directory.bureaus_with_counts(db.session))


@bp.get("/bureaus/<code>")
@public
@cached_page
def bureau(code: str):
    b = directory.get_bureau(db.session, code)
    return render_template("public/bureau.html", bureau=b, services=directory.services_of_bureau(db.session, b))


@bp.get("/search")
@public
@cached_page
def search_page():
    notice = None
    args = request.args.copy()
    try:
        query = parse_catalog_query(args, current_app.config["SEARCH_PER_PAGE"], current_app.config["SEARCH_PER_PAGE"])
    except ParamError as exc:
        # A hand-edited link should still show results: drop the bad parameter and say so.
        args.pop(exc.field, None)
        notice = _("已忽略无效的筛选条件。")
        query = parse_catalog_query(args, current_app.config["SEARCH_PER_PAGE"], current_app.config["SEARCH_PER_PAGE"])
    try:
        found = directory.search_services(db.session, search.index, query.q, category=query.category,
                                          bureau=query.bureau, online=query.online, page=query.page,
                                          per_page=query.per_page)
    except BadQuery:
        notice = _("已忽略无效的筛选条件。")
        query.category = query.bureau = None
        found = directory.search_services(db.session, search.index, query.q, online=query.online,
                                          page=query.page, per_page=query.per_page)
    categories, bureaus_by_code = directory.lookup_names(db.session)
    return render_template("public/search.html", query=query, found=found, notice=notice,
                           categories_by_code=categories, bureaus_by_code=bureaus_by_code,
                           joint_office=_joint_office() if not found.result.total else None)
