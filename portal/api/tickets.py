"""Staff queue and ticket actions, and the enterprise's rating, through the API. The services'
refusals (403, 404, 409 `invalid_transition` / `stale`, 422) are answered by the app's error
handlers (portal/errors.py)."""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _

from portal.access import ENTERPRISE, STAFF, token_required
from portal.api import bp
from portal.api.body import json_body
from portal.errors import api_error
from portal.extensions import db
from portal.params import parse_int, parse_queue_filter
from services.core.errors import ServiceError
from services.tickets import actions as tickets
from services.tickets import queue as queuesvc
from services.tickets import ratings, workdays


def service_dues(t) -> dict[str, str | None]:
    """Each requested service's own handling deadline, by service code."""
    return {i.service.code: i.due_date.isoformat() if i.due_date else None for i in t.items}


def ticket_json(t, due_state: str | None = None) -> dict:
    return {
        "number": t.number, "request": t.request.number, "status": t.status, "bureau": t.bureau.code,
        "enterprise": t.request.enterprise.name, "services": [i.service.code for i in t.items],
        "assignee": t.assignee.username if t.assignee else None, "version": t.version,
        "created_at": t.created_at.isoformat(),
        "accept_due": t.accept_due.isoformat() if t.accept_due else None,
        "due_date": t.due_date.isoformat() if t.due_date else None,
        "service_dues": service_dues(t), "info_due": t.info_due.isoformat() if t.info_due else None,
        "due_state": due_state, "routing_reason": t.routing_reason,
        "co_handlers": [c.bureau.code for c in t.co_handlers],
    }


@bp.get("/tickets")
@token_required(STAFF)
def list_tickets():
    args = request.args
    limit = parse_int(args, "per_page", 50, 1, 200)  # ParamError: 400 (portal/errors.py)
    filters = parse_queue_filter(args)
    try:
        page = queuesvc.queue(db.session, g.api_user, filters, after=args.get("after") or None, limit=limit)
    except ServiceError as exc:  # the queue refuses a filter or cursor: a bad parameter (400), not 422
        return api_error(400, "bad_parameter", exc.message, exc.fields or None)
    return jsonify({"total": page.total, "total_capped": page.total_capped, "next": page.next_cursor,
                    "items": [ticket_json(t, page.due_states[t.id]) for t in page.tickets]})


@bp.post("/tickets/<number>/actions")
@token_required(STAFF)
def ticket_action(number: str):
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        return api_error(400, "bad_json", _("请求体应为 JSON 对象，并包含 action"))
    for key in ("message", "to_bureau"):
        if body.get(key) is not None and not isinstance(body[key], str):
            return api_error(422, "invalid", _("%(key)s 应为字符串", key=key), {key: _("应为字符串")})
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return api_error(422, "invalid", _("version 应为整数"), {"version": _("应为整数")})
    data = tickets.ActionInput(action=body["action"], message=body.get("message") or "",
                               to_bureau=body.get("to_bureau"), expected_version=version)
    ticket = tickets.perform(db.session, g.api_user, number, data, upload_dir=current_app.config["UPLOAD_DIR"])
    calendar = workdays.Calendar.from_session(db.session)
    return jsonify(ticket_json(ticket, tickets.due_state(calendar, ticket)))


@bp.post("/requests/<number>/rating")
@token_required(ENTERPRISE)
def rate_request(number: str):
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("ticket"), str):
        return api_error(400, "bad_json", _("请求体应为 JSON 对象，并包含 ticket"))
    if body.get("comment") is not None and not isinstance(body["comment"], str):
        return api_error(422, "invalid", _("comment 应为字符串"), {"comment": _("应为字符串")})
    rating = ratings.rate(db.session, g.api_user, number, body["ticket"], body.get("score"), body.get("comment") or "")
    return jsonify({"ticket": body["ticket"], "round": rating.round, "score": rating.score,
                    "comment": rating.comment,
                    "follow_up_due": rating.follow_up_due.isoformat() if rating.follow_up_due else None}), 201
