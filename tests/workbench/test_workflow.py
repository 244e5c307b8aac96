"""The ticket state machine: every allowed and forbidden transition, roles and bureaus, reasons,
stale forms, deadlines on the official calendar, 补正 pause and resume, ratings."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.core.errors import Conflict, Forbidden, NotFound, Stale, ValidationFailed
from services.models import Rating, Ticket, TicketEvent
from services.requests import actions as request_actions
from services.requests import submission as reqsvc
from services.tickets import actions as tickets
from services.tickets import ratings, workdays, workflow
from services.tickets.actions import ActionInput

BEIJING = timezone(timedelta(hours=8))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING)


def act(app, username, number, action, message="", to_bureau=None, version=None, now=None):
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        t = tickets.perform(db.session, user, number, ActionInput(action, message, to_bureau, version), now=now)
        return t.status


def set_status(app, number, status):
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        t.status = status
        if status in (workflow.ACCEPTED, workflow.IN_PROGRESS, workflow.NEED_INFO):
            t.accepted_at = at(date(2026, 9, 21))
        db.session.commit()


MESSAGE = "请补充计量器具出厂合格证；说明原因"
# Every (status, action) pair, allowed or refused: tests/workbench/test_table.py.


@pytest.mark.parametrize("name", ["request_info", "complete", "reject", "return", "transfer", "reply", "note",
                                  "supervise"])
def test_reason_or_message_is_required(app, people, amr_ticket, name):
    set_status(app, amr_ticket, workflow.ACCEPTED if name != "reject" else workflow.SUBMITTED)
    who = people["sup"] if name in ("transfer", "supervise") else people["amr"]
    with pytest.raises(ValidationFailed) as exc:
        act(app, who, amr_ticket, name, "   ", "sti" if name == "transfer" else None)
    assert exc.value.status == 422 and "message" in exc.value.fields


def test_other_bureau_gets_not_found_and_wrong_role_forbidden(app, people, amr_ticket):
    with pytest.raises(NotFound):
        act(app, people["agri"], amr_ticket, "accept")
    with pytest.raises(Forbidden):
        act(app, people["amr"], amr_ticket, "transfer", "不归我们", "sti")
    with pytest.raises(Forbidden):
        act(app, people["amr"], amr_ticket, "supervise", "快办")
    with app.app_context():  # enterprises never reach ticket actions
        user = accounts.get_by_username(db.session, people["a"])
        with pytest.raises(NotFound):
            tickets.perform(db.session, user, amr_ticket, ActionInput("accept"))


def test_stale_version_is_refused_and_nothing_overwritten(app, people, amr_ticket):
    with app.app_context():
        version = db.session.scalar(select(Ticket.version).where(Ticket.number == amr_ticket))
    act(app, people["amr"], amr_ticket, "accept", version=version)
    with pytest.raises(Stale) as exc:
        act(app, people["amr"], amr_ticket, "request_info", MESSAGE, version=version)
    assert exc.value.status == 409 and "已被他人更新" in exc.value.message
    with app.app_context():
        assert db.session.scalar(select(Ticket.status).where(Ticket.number == amr_ticket)) == workflow.ACCEPTED


def test_accepting_sets_the_due_date_on_the_official_calendar(app, people, agri_ticket):
    act(app, people["agri"], agri_ticket, "accept", now=at(date(2026, 9, 21)))
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == agri_ticket))
        assert t.due_date == date(2026, 10, 26)  # 20 working days over Mid-Autumn and National Day
        assert t.assignee.username == people["agri"]


def test_need_info_stops_the_clock_and_the_answer_resumes_it(app, people, agri_ticket):
    act(app, people["agri"], agri_ticket, "accept", now=at(date(2026, 9, 21)))
    act(app, people["agri"], agri_ticket, "request_info", MESSAGE, now=at(date(2026, 10, 12)))
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == agri_ticket))
        assert t.status == workflow.NEED_INFO and t.request.status == workflow.NEED_INFO
        calendar = workdays.Calendar.from_session(db.session)
        assert tickets.due_state(calendar, t, date(2026, 11, 30)) == "on_time"  # paused: never overdue
        tickets.resume(calendar, t, today=date(2026, 10, 15))  # the enterprise answered 3 working days later
        db.session.commit()
        assert t.paused_days == 3 and t.due_date == date(2026, 10, 29)


def test_enterprise_answer_through_the_service_resumes(app, people, amr_ticket):
    act(app, people["amr"], amr_ticket, "accept")
    act(app, people["amr"], amr_ticket, "request_info", MESSAGE)
    with app.app_context():
        user = accounts.get_by_username(db.session, people["a"])
        number = amr_ticket.rsplit("-", 1)[0]
        request_actions.provide_info(db.session, user, number, amr_ticket, "已补充",
                            [reqsvc.uploads.Incoming("合格证.pdf", io.BytesIO(b"%PDF-1.4 ok"))],
                            app.config["UPLOAD_DIR"])
        t = db.session.scalar(select(Ticket).where(Ticket.number == amr_ticket))
        assert t.status == workflow.IN_PROGRESS and t.paused_at is None


def test_transfer_moves_the_ticket_and_resets_its_clock(app, people, amr_ticket):
    act(app, people["amr"], amr_ticket, "accept")
    act(app, people["amr"], amr_ticket, "return", "不属于本局职责")
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == amr_ticket))
        assert (t.bureau.code, t.status) == ("joint-office", workflow.RETURNED)
    act(app, people["sup"], amr_ticket, "transfer", "转农业农村局办理", "agri")
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == amr_ticket))
        assert (t.bureau.code, t.status, t.due_date, t.accepted_at) == ("agri", workflow.SUBMITTED, None, None)
        assert t.accept_due is not None and "转农业农村局办理" in t.routing_reason
    act(app, people["agri"], amr_ticket, "accept")  # the new bureau can work it now
    with pytest.raises(NotFound):
        act(app, people["amr"], amr_ticket, "note", "还能看吗")


def test_co_handling_bureau_sees_and_adds_its_part(app, people, amr_ticket, lead):
    act(app, people["amr"], amr_ticket, "accept")
    act(app, lead, amr_ticket, "co_handle", "请提供农产品检测意见", "agri")
    act(app, people["agri"], amr_ticket, "co_reply", "检测结果合格")
    with pytest.raises(Forbidden):
        act(app, people["agri"], amr_ticket, "complete", "越权办结")
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == amr_ticket))
        assert t.co_handlers[0].done_at is not None and t.bureau.code == "amr"


def test_history_records_every_step(app, people, amr_ticket):
    for name, message in [("accept", ""), ("request_info", MESSAGE), ("reply", "请尽快"), ("note", "内部")]:
        if name == "reply":
            set_status(app, amr_ticket, workflow.IN_PROGRESS)
        act(app, people["amr"], amr_ticket, name, message)
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == amr_ticket))
        events = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                    .order_by(TicketEvent.id)).all()
        assert [e.kind for e in events] == ["submitted", "routed", "accept", "request_info", "reply", "note"]
        assert all(e.actor is not None for e in events[2:])
        assert [e.public for e in events][-1] is False


def test_ratings_once_after_completion_and_follow_up(app, people, amr_ticket, lead):
    number = amr_ticket.rsplit("-", 1)[0]
    with app.app_context():
        user = accounts.get_by_username(db.session, people["a"])
        with pytest.raises(Conflict):
            ratings.rate(db.session, user, number, amr_ticket, 5)
    act(app, people["amr"], amr_ticket, "accept")
    act(app, people["amr"], amr_ticket, "complete", "检定合格，证书已出具")
    with app.app_context():
        user = accounts.get_by_username(db.session, people["a"])
        with pytest.raises(ValidationFailed):
            ratings.rate(db.session, user, number, amr_ticket, 6)
        first = ratings.rate(db.session, user, number, amr_ticket, 2, "等太久")
        assert first.follow_up_due is not None
        with pytest.raises(Conflict):
            ratings.rate(db.session, user, number, amr_ticket, 5)  # not before the follow-up
        lead_user = accounts.get_by_username(db.session, lead)
        assert [r.id for r in ratings.open_follow_ups(db.session, lead_user)] == [first.id]
        other = accounts.get_by_username(db.session, people["amr"])
        with pytest.raises(Forbidden):
            ratings.follow_up(db.session, other, first.id, "回访")
        ratings.follow_up(db.session, lead_user, first.id, "已电话回访并改进流程")
        second = ratings.rate(db.session, user, number, amr_ticket, 4)
        assert second.round == 2
        with pytest.raises(Conflict):
            ratings.rate(db.session, user, number, amr_ticket, 5)
        assert len(db.session.scalars(select(Rating)).all()) == 2


def test_enterprise_b_cannot_rate_a(app, people, amr_ticket):
    act(app, people["amr"], amr_ticket, "accept")
    act(app, people["amr"], amr_ticket, "complete", "办结")
    with app.app_context():
        b = accounts.get_by_username(db.session, people["b"])
        with pytest.raises(NotFound):
            ratings.rate(db.session, b, amr_ticket.rsplit("-", 1)[0], amr_ticket, 1)
