from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.access import STAFF, login_required
from portal.errors import REFUSED
from portal.extensions import db, search
from portal.params import ParamError, parse_queue_filter
from portal.search import TicketSearchUnavailable
from portal.staff import bp
from portal.staff.forms import (
    ActionForm,
    AssignForm,
    ClaimForm,
    FollowUpForm,
    bureau_choices,
)
from portal.texts import message as refusal
from portal.texts import tr
from services import policy
from services.core import roles
from services.core.errors import ServiceError
from services.models import Bureau, CannedReply
from services.requests import uploads
from services.tickets import actions as tickets
from services.tickets import queue as queuesvc
from services.tickets import ratings, workdays, workflow


def _user():
    return current_user._get_current_object()


@bp.get("/queue")
@login_required(STAFF)
def queue():
    user = _user()
    args = request.args
    error = notice = None
    page = None
    try:
        f = parse_queue_filter(args)
        q = args.get("q", "").strip()
        if q:  # full-text search: only among what this user may see, any status unless narrowed
            try:
                f.numbers = search.search_tickets(db.session, q, policy.search_scope(user))
                f.status = f.status or "all"
            except TicketSearchUnavailable as exc:  # the index is being rebuilt: the queue without it
                notice = exc.message
        page = queuesvc.queue(db.session, user, f, after=args.get("after") or None)
    except ParamError as exc:
        error = tr(exc.message)
    except ServiceError as exc:
        error = refusal(exc)
    bureaus = db.session.scalars(select(Bureau).order_by(Bureau.position)).all()
    return render_template("staff/queue.html", page=page, error=error, notice=notice, status_choices=workflow.LABELS,
                           bureaus=bureaus, user=user), (400 if error else 200)


def _ticket_or_404(number: str):
    """The ticket if this user may see it; otherwise NotFound, the 404 page (portal/errors.py)."""
    return tickets.get_ticket(db.session, _user(), number)


def _version(raw: str | None) -> int | None:
    """The ticket version a form was opened at (its hidden `version` field), or None."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _render_ticket(ticket, status: int = 200, form_error: str | None = None, failed_action: str | None = None):
    user = _user()
    calendar = workdays.Calendar.from_session(db.session)
    bureaus = db.session.scalars(select(Bureau).order_by(Bureau.position)).all()
    forms = {}
    for a in workflow.allowed_actions(ticket.status, user.role):
        if not policy.may_run(user, ticket, a.name, a.roles):
            continue
        form = ActionForm(prefix=a.name, data={"action": a.name, "version": ticket.version})
        form.to_bureau.choices = bureau_choices(bureaus, ticket.bureau_id)
        forms[a.name] = (a, form)
    assign_form = AssignForm(data={"version": ticket.version})
    assign_form.assignee.choices = [(u.username, u.display_name or u.username)
                                    for u in tickets.bureau_handlers(db.session, ticket.bureau_id)]
    canned = db.session.scalars(select(CannedReply).where(CannedReply.bureau_id == ticket.bureau_id)).all()
    return render_template(
        "staff/ticket.html", ticket=ticket, req=ticket.request, forms=forms, user=user,
        claim_form=ClaimForm(data={"version": ticket.version}), assign_form=assign_form, canned=canned,
        due_state=tickets.due_state(calendar, ticket), warnings=calendar.warnings(), form_error=form_error,
        pause=tickets.pause_of(calendar, ticket),
        item_states={i.id: tickets.item_due_state(calendar, ticket, i) for i in ticket.items},
        failed_action=failed_action, ratings=ratings.ratings_of(db.session, ticket),
        can_act=policy.can_act_on_ticket(user, ticket)), status


@bp.get("/tickets/<number>")
@login_required(STAFF)
def ticket(number: str):
    return _render_ticket(_ticket_or_404(number))


@bp.post("/tickets/<number>/actions/<action>")
@login_required(STAFF)
def act(number: str, action: str):
    ticket = _ticket_or_404(number)
    form = ActionForm(prefix=action)
    if not form.validate_on_submit():
        return _render_ticket(ticket, 400, _("页面已过期，请刷新后重试。"), action)
    data = tickets.ActionInput(
        action=action, message=form.message.data or "", to_bureau=form.to_bureau.data or None,
        expected_version=_version(form.version.data),
        files=tuple(uploads.Incoming(f.filename or "", f.stream)
                    for f in request.files.getlist(f"{action}-attachments") if f.filename))
    try:
        done = tickets.perform(db.session, _user(), number, data, upload_dir=current_app.config["UPLOAD_DIR"])
    except REFUSED as exc:
        db.session.expire_all()
        return _render_ticket(_ticket_or_404(number), exc.status, refusal(exc), action)
    label = workflow.ACTIONS[action].label
    if not policy.can_see_ticket(_user(), done):  # e.g. transferred out of this bureau
        flash(_("已完成：%(label)s。办件 %(number)s 已交由%(bureau)s办理，不再在本单位的队列中。",
                label=label, number=number, bureau=done.bureau.name), "success")
        return redirect(url_for("staff.queue"))
    flash(_("已完成：%(label)s。", label=label), "success")
    return redirect(url_for("staff.ticket", number=number))


@bp.post("/tickets/<number>/claim")
@login_required(STAFF)
def claim(number: str):
    ticket = _ticket_or_404(number)
    form = ClaimForm()
    version = _version(form.version.data)
    if not form.validate_on_submit() or version is None:  # no version: not a form from the ticket page
        return _render_ticket(ticket, 400, _("页面已过期，请刷新后重试。"))
    try:
        tickets.claim(db.session, _user(), number, version)
    except REFUSED as exc:
        db.session.expire_all()
        return _render_ticket(_ticket_or_404(number), exc.status, tr(exc.message))
    flash(_("已认领。"), "success")
    return redirect(url_for("staff.ticket", number=number))


@bp.post("/tickets/<number>/assign")
@login_required(STAFF)
def assign(number: str):
    ticket = _ticket_or_404(number)
    form = AssignForm()
    form.assignee.choices = []
    version = _version(form.version.data)
    if not form.validate_on_submit() or version is None:  # no version: not a form from the ticket page
        return _render_ticket(ticket, 400, _("页面已过期，请刷新后重试。"))
    try:
        tickets.assign(db.session, _user(), number, form.assignee.data or "", version)
    except REFUSED as exc:
        db.session.expire_all()
        return _render_ticket(_ticket_or_404(number), exc.status, refusal(exc))
    flash(_("已分派。"), "success")
    return redirect(url_for("staff.ticket", number=number))


@bp.get("/follow-ups")
@login_required(roles.LEADS)
def follow_ups():
    return render_template("staff/follow_ups.html", items=ratings.open_follow_ups(db.session, _user()),
                           form=FollowUpForm(), labels=ratings.LABELS)


@bp.post("/ratings/<int:rating_id>/follow-up")
@login_required(roles.LEADS)
def follow_up(rating_id: int):
    form = FollowUpForm()
    if not form.validate_on_submit():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("staff.follow_ups"))
    try:
        ratings.follow_up(db.session, _user(), rating_id, form.note.data or "")
    except REFUSED as exc:
        return render_template("staff/follow_ups.html", items=ratings.open_follow_ups(db.session, _user()),
                               form=form, labels=ratings.LABELS, error=refusal(exc)), exc.status
    flash(_("回访情况已记录，企业可以再评价一次。"), "success")
    return redirect(url_for("staff.follow_ups"))
