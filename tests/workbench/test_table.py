"""The ticket state machine is its table (services.tickets.workflow): every status change, effect
and notice of an action — the staff's and the enterprise's 补正 answer — is read from the action's
row, every (status, action) pair the table does not list is refused, and the history texts and
notices stay as they were worded."""
from __future__ import annotations

import dataclasses
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.core import roles, statuses
from services.core.errors import Forbidden, InvalidTransition
from services.models import Bureau, CoHandler, Notification, Ticket, TicketEvent, User
from services.requests import actions as request_actions
from services.requests import uploads
from services.tickets import actions as tickets
from services.tickets import workflow
from services.tickets.actions import ActionInput

MESSAGE = "请补充计量器具出厂合格证；说明原因"
ACCEPTED_ON = datetime(2026, 9, 21, 10, tzinfo=timezone(timedelta(hours=8)))


def request_number(ticket_number: str) -> str:
    return ticket_number.rsplit("-", 1)[0]


def act(app, username, number, action, message=MESSAGE, to_bureau=None):
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        return tickets.perform(db.session, user, number, ActionInput(action, message, to_bureau)).status


def answer(app, username, number, message="已补充", files=()):
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        incoming = [uploads.Incoming(name, io.BytesIO(data)) for name, data in files]
        event = request_actions.provide_info(db.session, user, request_number(number), number, message, incoming,
                                             app.config["UPLOAD_DIR"])
        return event.ticket.status


def put(app, number, status, co_handler: str | None = None):
    """The ticket in `status` (accepted earlier when that status needs it), optionally with an open
    co-handling by another bureau."""
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        t.status = status
        if status in statuses.OPEN_WORK:
            t.accepted_at = ACCEPTED_ON
        if status == statuses.NEED_INFO:
            t.paused_at = ACCEPTED_ON
        if co_handler:
            t.co_handlers.append(CoHandler(bureau=db.session.scalar(select(Bureau).where(Bureau.code == co_handler)),
                                           note="请协办"))
        db.session.commit()


def status_of(app, number) -> str:
    with app.app_context():
        return db.session.scalar(select(Ticket.status).where(Ticket.number == number))


def events_of(app, number) -> list[tuple]:
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        rows = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))
        return [(e.kind, e.from_status, e.to_status, e.message, e.public, e.bureau.code if e.bureau else None)
                for e in rows]


def notices_since(app, last_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(select(User.username, Notification.message)
                                  .join(User, Notification.user_id == User.id)
                                  .where(Notification.id > last_id).order_by(Notification.id)).all()
        return [tuple(r) for r in rows]


def last_notice(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0


# --------------------------------------------------------------------------- the table itself
def test_the_table_names_only_registered_effects_and_notices():
    assert tickets.unknown_names() == []
    for row in workflow.ROWS:
        assert set(row.effects) <= set(tickets.EFFECTS), row.name
        assert set(row.notices) <= set(tickets.NOTICES), row.name
        assert row.sources <= set(statuses.ALL) and set(row.roles) <= set(roles.ROLES), row.name
        assert {source for source, _ in row.moves} <= row.sources, row.name  # a move starts from a source
    # nothing is registered that no row uses
    assert {e for row in workflow.ROWS for e in row.effects} == set(tickets.EFFECTS)
    assert {n for row in workflow.ROWS for n in row.notices} == set(tickets.NOTICES)


def test_an_unknown_effect_or_notice_is_reported():
    bad = dataclasses.replace(workflow.ACTIONS["note"], effects=("close", "no_such_effect"), notices=("nobody",))
    assert tickets.unknown_names([bad]) == ["note: effect no_such_effect", "note: notice nobody"]


def test_the_enterprise_row_is_the_enterprises_and_not_a_staff_action():
    assert workflow.PROVIDE_INFO.roles == roles.ENTERPRISES
    assert workflow.PROVIDE_INFO.name not in workflow.ACTIONS
    assert all(roles.ENTERPRISE not in a.roles for a in workflow.ACTIONS.values())
    assert workflow.PROVIDE_INFO.sources == {statuses.NEED_INFO}
    assert workflow.PROVIDE_INFO.target_for(statuses.NEED_INFO) == statuses.IN_PROGRESS


# --------------------------------------------------------------------------- reply
def test_reply_on_accepted_moves_to_in_progress_per_the_table(app, people, amr_ticket):
    reply = workflow.ACTIONS["reply"]
    assert reply.target is None and dict(reply.moves) == {statuses.ACCEPTED: statuses.IN_PROGRESS}
    assert reply.target_for(statuses.ACCEPTED) == statuses.IN_PROGRESS
    assert reply.target_for(statuses.IN_PROGRESS) == statuses.IN_PROGRESS
    assert reply.target_for(statuses.NEED_INFO) == statuses.NEED_INFO
    act(app, people["amr"], amr_ticket, "accept", "")
    assert act(app, people["amr"], amr_ticket, "reply", "请携带器具到所") == statuses.IN_PROGRESS
    assert events_of(app, amr_ticket)[-1] == ("reply", "accepted", "in_progress", "请携带器具到所", True, "amr")
    assert act(app, people["amr"], amr_ticket, "reply", "已安排检定") == statuses.IN_PROGRESS
    assert events_of(app, amr_ticket)[-1] == ("reply", "in_progress", None, "已安排检定", True, "amr")


def test_the_move_is_the_tables_and_nothing_else(app, people, amr_ticket, monkeypatch):
    """Without its move in the row, a reply leaves an accepted ticket accepted: no rule elsewhere."""
    monkeypatch.setitem(workflow.ACTIONS, "reply", dataclasses.replace(workflow.ACTIONS["reply"], moves=()))
    act(app, people["amr"], amr_ticket, "accept", "")
    assert act(app, people["amr"], amr_ticket, "reply", "请携带器具到所") == statuses.ACCEPTED


def test_effects_and_notices_run_as_the_row_lists_them(app, people, amr_ticket, monkeypatch):
    ran = []
    monkeypatch.setitem(tickets.EFFECTS, "mark", lambda step: ran.append(("effect", step.action.name, step.text)))
    monkeypatch.setitem(tickets.NOTICES, "spy", lambda step: ran.append(("notice", step.action.name, step.text)))
    note = workflow.ACTIONS["note"]
    monkeypatch.setitem(workflow.ACTIONS, "note", dataclasses.replace(note, effects=("mark", "supervise"),
                                                                      notices=("spy",)))
    act(app, people["amr"], amr_ticket, "note", "内部记录")
    # the effects in order (supervise rewords the text), then the notice with the final text
    assert ran == [("effect", "note", "内部记录"), ("notice", "note", "督办：内部记录")]
    assert events_of(app, amr_ticket)[-1] == ("note", "submitted", None, "督办：内部记录", False, "amr")
    with app.app_context():
        assert db.session.scalar(select(Ticket).where(Ticket.number == amr_ticket)).supervised_at is not None


# --------------------------------------------------------------------------- every pair
def _who(people, lead, row) -> str:
    if row is workflow.PROVIDE_INFO:
        return people["a"]
    return {"transfer": people["sup"], "supervise": people["sup"], "co_handle": lead,
            "co_reply": people["agri"]}.get(row.name, people["amr"])


def _run(app, who, number, row):
    if row is workflow.PROVIDE_INFO:
        return answer(app, who, number)
    return act(app, who, number, row.name, MESSAGE, "agri" if row.needs_bureau else None)


PAIRS = [(row.name, status) for row in workflow.ROWS for status in statuses.ALL]


@pytest.mark.parametrize("name,status", PAIRS)
def test_every_pair_is_allowed_or_refused_by_the_table(app, people, lead, amr_ticket, name, status):
    row = workflow.PROVIDE_INFO if name == workflow.PROVIDE_INFO.name else workflow.ACTIONS[name]
    put(app, amr_ticket, status, co_handler="agri" if name == "co_reply" else None)
    who = _who(people, lead, row)
    if status in row.sources:
        assert _run(app, who, amr_ticket, row) == row.target_for(status)
        kind, before, after = events_of(app, amr_ticket)[-1][:3]
        assert (kind, before, after) == (row.event_kind, status,
                                         row.target_for(status) if row.target_for(status) != status else None)
    else:
        with pytest.raises(InvalidTransition) as exc:
            _run(app, who, amr_ticket, row)
        assert exc.value.status == 409
        assert (row.refused or row.label) in exc.value.message
        assert status_of(app, amr_ticket) == status
        assert events_of(app, amr_ticket)[-1][0] == "routed"  # nothing written


# --------------------------------------------------------------------------- the enterprise's answer
def test_the_enterprises_answer_runs_the_provide_info_row(app, people, amr_ticket, monkeypatch):
    act(app, people["amr"], amr_ticket, "accept", "")
    act(app, people["amr"], amr_ticket, "request_info", MESSAGE)
    rows, effects = [], []
    apply = tickets.apply
    monkeypatch.setattr(tickets, "apply", lambda *a, **k: rows.append(a[3]) or apply(*a, **k))
    resume = tickets.EFFECTS["resume_clock"]
    monkeypatch.setitem(tickets.EFFECTS, "resume_clock", lambda step: effects.append(step.action) or resume(step))
    before = last_notice(app)
    assert answer(app, people["a"], amr_ticket, "", [("合格证.pdf", b"%PDF-1.4 ok")]) == statuses.IN_PROGRESS
    assert rows == [workflow.PROVIDE_INFO] and effects == [workflow.PROVIDE_INFO]
    assert events_of(app, amr_ticket)[-1] == ("info_provided", "need_info", "in_progress", "已上传补正材料", True,
                                              "amr")
    assert notices_since(app, before) == [(people["amr"], f"澧县兰江食品有限公司已补正办件 {amr_ticket}")]
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == amr_ticket))
        assert t.paused_at is None and t.request.status == statuses.IN_PROGRESS
        event = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                  .order_by(TicketEvent.id.desc()).limit(1))
        assert [a.original_name for a in event.attachments] == ["合格证.pdf"]


def test_the_answer_follows_a_changed_row(app, people, amr_ticket, monkeypatch):
    """provide_info has no rules of its own: without notices in the row, nobody is told."""
    monkeypatch.setattr(workflow, "PROVIDE_INFO", dataclasses.replace(workflow.PROVIDE_INFO, notices=()))
    put(app, amr_ticket, statuses.NEED_INFO)
    before = last_notice(app)
    assert answer(app, people["a"], amr_ticket) == statuses.IN_PROGRESS
    assert notices_since(app, before) == []


def test_the_answer_is_the_enterprises(app, people, amr_ticket):
    put(app, amr_ticket, statuses.NEED_INFO)
    with pytest.raises(Forbidden) as exc:
        answer(app, people["amr"], amr_ticket)
    assert exc.value.message == "只有提交申请的企业可以补正材料"
    assert status_of(app, amr_ticket) == statuses.NEED_INFO


# --------------------------------------------------------------------------- history texts and notices
def test_history_texts_and_notices_as_worded(app, people, lead, amr_ticket):
    number = request_number(amr_ticket)
    start = last_notice(app)
    act(app, people["amr"], amr_ticket, "accept", "")
    with app.app_context():
        due = db.session.scalar(select(Ticket.due_date).where(Ticket.number == amr_ticket)).isoformat()
    act(app, lead, amr_ticket, "co_handle", "请提供意见", "agri")
    act(app, people["agri"], amr_ticket, "co_reply", "合格")
    act(app, people["sup"], amr_ticket, "supervise", "尽快办理")
    act(app, people["amr"], amr_ticket, "return", "不属于本局")
    act(app, people["sup"], amr_ticket, "transfer", "转农业农村局", "agri")
    assert events_of(app, amr_ticket)[2:] == [
        ("accept", "submitted", "accepted", f"已签收受理，办理期限 {due}", True, "amr"),
        ("co_handle", "accepted", None, "请县农业农村局协办：请提供意见", False, "amr"),
        ("co_reply", "accepted", None, "县农业农村局协办意见：合格", False, "amr"),
        ("supervise", "accepted", None, "督办：尽快办理", False, "amr"),
        ("return", "accepted", "returned", "退回联席会议办公室：不属于本局", True, "amr"),  # the holder's line
        ("transfer", "returned", "submitted", "由联席会议办公室转办至县农业农村局：转农业农村局", True, "joint-office"),
    ]
    assert notices_since(app, start) == [
        (people["a"], f"您的申请 {number}（县市场监管局）：签收受理。已签收受理，办理期限 {due}"),
        (people["agri"], f"请协办办件 {amr_ticket}：请县农业农村局协办：请提供意见"),
        (lead, f"办件 {amr_ticket} 被督办：督办：尽快办理"),
        (people["a"], f"您的申请 {number}（联席会议办公室）：退回联席办。退回联席会议办公室：不属于本局"),
        (people["sup"], f"新转来的办件 {amr_ticket}：退回联席会议办公室：不属于本局"),
        (people["agri"], f"新转来的办件 {amr_ticket}：由联席会议办公室转办至县农业农村局：转农业农村局"),
    ]
