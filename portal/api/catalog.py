"""Public catalog reads: no token needed. Bad parameters (400) and unknown codes (404) are answered
by the app's error handlers (portal/errors.py)."""
from __future__ import annotations

from flask import current_app, jsonify, request, url_for

from portal.access import public
from portal.api import bp
from portal.extensions import db, search
from portal.params import parse_catalog_query
from services.catalog import directory
from services.catalog.records import service_record


@bp.get("/services")
@public
def list_services():
    query = parse_catalog_query(request.args, 20, current_app.config["API_MAX_PER_PAGE"])
    found = directory.search_services(db.session, search.index, query.q, category=query.category,
                                      bureau=query.bureau, online=query.online, page=query.page,
                                      per_page=query.per_page, highlight=False)
    result = found.result
    return jsonify({
        "total": result.total, "page": result.page, "per_page": result.per_page,
        "items": [{
            "code": h.service.code, "name": h.service.name, "category": h.service.category.code,
            "bureau": h.service.bureau.code, "summary": h.service.summary,
            "url": url_for("public.service", code=h.service.code, _external=True),
            "score": round(h.hit.score, 4),
        } for h in found.hits],
        "facets": result.facets,
        **({"message": result.message} if result.message else {}),
    })


@bp.get("/services/<code>")
@public
def get_service(code: str):
    svc = directory.get_service(db.session, code)
    record = service_record(svc)
    record.pop("published", None)
    record["category_name"] = svc.category.name
    record["bureau_name"] = svc.bureau.name
    record["bureau_contact"] = {"name": svc.bureau.name, "short_name": svc.bureau.short_name,
                                "phone": svc.bureau.phone, "address": svc.bureau.address,
                                "office_hours": svc.bureau.office_hours}
    record["url"] = url_for("public.service", code=svc.code, _external=True)
    return jsonify(record)
