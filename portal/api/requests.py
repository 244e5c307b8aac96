"""Requests through the API: the same services functions as the pages. The services' refusals
become `{"error": …}` answers in the app's error handlers (portal/errors.py), with messages in the
request's language; codes and field keys never change."""
from __future__ import annotations

from flask import current_app, g, jsonify, url_for
from flask_babel import gettext as _

from portal.access import ENTERPRISE, token_required
from portal.api import bp
from portal.api.body import json_body
from portal.api.tickets import service_dues
from portal.errors import api_error
from portal.extensions import db
from services import policy
from services.requests import reading
from services.requests import submission as reqsvc


def request_json(req, user) -> dict:
    return {
        "number": req.number,
        "kind": req.kind,
        "status": req.status,
        "created_at": req.created_at.isoformat(),
        "description": req.description,
        "url": url_for("requests.detail", number=req.number, _external=True),
        **({"query_code": req.query_code} if user.role == "enterprise" else {}),
        "tickets": [{
            "number": t.number, "bureau": t.bureau.code, "bureau_name": t.bureau.name, "status": t.status,
            "due_date": t.due_date.isoformat() if t.due_date else None,
            "service_codes": [i.service.code for i in t.items], "service_dues": service_dues(t),
            "info_due": t.info_due.isoformat() if t.info_due else None,
            **({"routing_reason": t.routing_reason} if policy.can_read_routing(user, t) else {}),
        } for t in req.tickets],
        "attachments": [{"name": a.original_name, "size": a.size, "mime_type": a.mime_type,
                         "url": url_for("requests.attachment", attachment_id=a.id, _external=True)}
                        for a in policy.visible_attachments(user, req)],
        "timeline": [{"at": e.created_at.isoformat(), "kind": e.kind, "ticket": e.ticket.number if e.ticket else None,
                      "bureau": e.bureau.code if e.bureau else None,
                      "from_status": e.from_status, "to_status": e.to_status, "message": e.message,
                      "public": e.public} for e in policy.visible_events(user, req)],
    }


@bp.post("/requests")
@token_required(ENTERPRISE)
def create_request():
    body = json_body()
    if not isinstance(body, dict):
        return api_error(400, "bad_json", _("请求体应为 JSON 对象"))
    services = body.get("services")
    attributes = body.get("attributes") or {}
    problems = {}
    if not isinstance(services, list) or not all(isinstance(c, str) for c in services):
        problems["services"] = _("services 应为服务编码列表")
    if not isinstance(attributes, dict):
        problems["attributes"] = _("attributes 应为对象：{服务编码: {字段编码: 值}}")
    for key in ("description", "idempotency_key", "contact_name", "contact_mobile", "contact_email", "bundle"):
        if body.get(key) is not None and not isinstance(body.get(key), str):
            problems[key] = _("%(key)s 应为字符串", key=key)
    if problems:
        return api_error(422, "invalid", _("提交的内容有误"), problems)
    sub = reqsvc.Submission(services=list(services or ()), attributes=attributes,
                            description=body.get("description") or "",
                            contact_name=body.get("contact_name") or "",
                            contact_mobile=body.get("contact_mobile") or "",
                            contact_email=body.get("contact_email") or "",
                            idempotency_key=body.get("idempotency_key") or "", bundle=body.get("bundle"))
    req, created = reqsvc.submit(db.session, g.api_user, sub, current_app.config["UPLOAD_DIR"])
    return jsonify(request_json(req, g.api_user)), (201 if created else 200)


@bp.get("/requests/<number>")
@token_required()
def get_request(number: str):
    req = reading.get_request(db.session, g.api_user, number)
    return jsonify(request_json(req, g.api_user))
