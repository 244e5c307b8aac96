"""Tickets with hand-checked dates around the 2026 Mid-Autumn and National Day holidays.

The official 2026 calendar (chinesecalendar): 25–27 Sep and 1–7 Oct are days off; Sun 20 Sep
and Sat 10 Oct are make-up working days. All times are 10:00 Beijing time unless said.

| ticket | bureau | service | submitted | accepted | accept wd | due | completed | handling wd | on time | ratings |
|---|---|---|---|---|---|---|---|---|---|---|
| t1 | amr | JL-002 (10) | 09-28 | 09-30 | 2 | 10-20 | 10-09 | 2 | yes | 5 |
| t2 | amr | JL-002 | 09-29 | 09-29 | 0 | 10-19 | 10-21 | 12 | no | 2, then 4 (round 2) |
| t3 | amr | JL-002 | 10-09 | 10-12 | 2 (Sat 10-10 works) | 10-28 (+2 补正) | 10-28 | 12 − 2 = 10 | yes | 2 |
| t4 | amr | JL-002 | 10-12 | 10-13 | 1 | 10-27 | open, in progress | | overdue | |
| t5 | agri | RZ-001 (20) | 10-14 | — (accept_due 10-16) | | | open | | overdue (签收) | |
| t6 | amr | JL-002 | 10-15 | — | | | rejected 10-16 | | | |
| t7 | amr | JL-002 | 08-20 | 08-21 | | 09-04 | open | | overdue, outside Sep–Oct | |
| t8 | agri | JC-002 (10) | 09-30 | 10-08 | 1 | 10-21 | 10-20 | 9 | yes | 3 |

Range 2026-09-01 … 2026-10-31, all bureaus (today 2026-11-29): received 7, completed 4, rejected 1,
open 2 (t4, t5), overdue 2; on-time 3/4 = 75.0 %; handling (2+12+10+9)/4 = 8.25 → 8.3;
acceptance (2+0+2+1+1)/5 = 1.2; satisfaction latest (5+4+2+3)/4 = 3.5; 差评 1/4 = 25.0 %.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.core import clock as core_clock
from services.core.clock import BEIJING
from services.models import Ticket
from services.requests import submission as reqsvc
from services.tickets import actions as tickets
from services.tickets import ratings, workdays, workflow
from services.tickets.actions import ActionInput
from tests.helpers import USCC_A, USCC_B, make_enterprise, make_staff

TODAY = date(2026, 11, 29)
RANGE = {"from": "2026-09-01", "to": "2026-10-31"}


def bj(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as an aware UTC datetime (how the database stores times)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING).astimezone(timezone.utc)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


def make_ticket(app, username: str, service: str, submitted: datetime) -> str:
    attributes = {"JL-002": {"instrument": "电子秤"}} if service == "JL-002" else {}
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        req, _ = reqsvc.submit(db.session, user, reqsvc.Submission(services=[service], attributes=attributes),
                               app.config["UPLOAD_DIR"])
        calendar = workdays.Calendar.from_session(db.session)
        req.created_at = submitted
        for t in req.tickets:
            t.created_at = submitted
            t.accept_due = tickets.accept_due_for(calendar, core_clock.local_date(submitted))
        number = req.tickets[0].number
        db.session.commit()
        return number


def act(app, username: str, number: str, action: str, when: datetime, message: str = "已处理",
        to_bureau: str | None = None) -> None:
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        tickets.perform(db.session, user, number, ActionInput(action, message, to_bureau), now=when)


def pause(app, username: str, number: str, asked: datetime, answered: date) -> None:
    """要求补正 on ``asked``; the enterprise answers on ``answered`` and the clock resumes."""
    act(app, username, number, "request_info", asked, "请补充出厂合格证")
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        tickets.resume(workdays.Calendar.from_session(db.session), t, today=answered)
        t.status = workflow.IN_PROGRESS
        db.session.commit()


def rate(app, username: str, number: str, score: int) -> None:
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        ratings.rate(db.session, user, t.request.number, number, score, today=TODAY)


def follow_up(app, lead: str, number: str) -> None:
    with app.app_context():
        from services.models import Rating

        user = accounts.get_by_username(db.session, lead)
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        rating = db.session.scalar(select(Rating).where(Rating.ticket_id == t.id, Rating.round == 1))
        ratings.follow_up(db.session, user, rating.id, "已电话回访，说明原因并整改")


@pytest.fixture
def clock():
    """The one clock (``services.core.clock``) stands at 10:00 Beijing time on TODAY during the
    test and runs again afterwards. Yields the clock module: ``clock.set_now(...)`` moves it."""
    with core_clock.frozen(TODAY):
        yield core_clock


@pytest.fixture
def frozen_today(clock):
    """The dashboards' "today" is TODAY (modules ask for it with `pytest.mark.usefixtures`):
    the one clock stands still, so every layer agrees on the date and the time."""
    return clock


@dataclass
class World:
    people: dict[str, str]
    t: dict[str, str]          # ticket numbers t1 … t8


@pytest.fixture
def people(app):
    return {
        "a": make_enterprise(app, USCC_A, "澧县兰江食品有限公司"),
        "b": make_enterprise(app, USCC_B, "澧县澧水纺织有限公司", industry="textile", township="梦溪镇"),
        "amr": make_staff(app, "amr-h", "handler", "amr"),
        "agri": make_staff(app, "agri-h", "handler", "agri"),
        "amr_lead": make_staff(app, "amr-lead", "lead", "amr"),
        "agri_lead": make_staff(app, "agri-lead", "lead", "agri"),
        "sup": make_staff(app, "sup", "supervisor", None),
        "admin": make_staff(app, "adm", "admin", None),
    }


@pytest.fixture
def world(app, people) -> World:
    p = people
    t = {}
    t["t1"] = make_ticket(app, p["a"], "JL-002", bj(d(9, 28)))
    act(app, p["amr"], t["t1"], "accept", bj(d(9, 30)))
    act(app, p["amr"], t["t1"], "complete", bj(d(10, 9)))
    rate(app, p["a"], t["t1"], 5)

    t["t2"] = make_ticket(app, p["b"], "JL-002", bj(d(9, 29), 9))
    act(app, p["amr"], t["t2"], "accept", bj(d(9, 29), 15))
    act(app, p["amr"], t["t2"], "complete", bj(d(10, 21)))
    rate(app, p["b"], t["t2"], 2)
    follow_up(app, p["amr_lead"], t["t2"])
    rate(app, p["b"], t["t2"], 4)

    t["t3"] = make_ticket(app, p["a"], "JL-002", bj(d(10, 9)))
    act(app, p["amr"], t["t3"], "accept", bj(d(10, 12)))
    pause(app, p["amr"], t["t3"], bj(d(10, 13)), d(10, 15))
    act(app, p["amr"], t["t3"], "complete", bj(d(10, 28), 17))
    rate(app, p["a"], t["t3"], 2)

    t["t4"] = make_ticket(app, p["a"], "JL-002", bj(d(10, 12)))
    act(app, p["amr"], t["t4"], "accept", bj(d(10, 13)))
    act(app, p["amr"], t["t4"], "start", bj(d(10, 14)))

    t["t5"] = make_ticket(app, p["a"], "RZ-001", bj(d(10, 14)))

    t["t6"] = make_ticket(app, p["b"], "JL-002", bj(d(10, 15)))
    act(app, p["amr"], t["t6"], "reject", bj(d(10, 16)), "不属于强制检定范围")

    t["t7"] = make_ticket(app, p["a"], "JL-002", bj(d(8, 20)))
    act(app, p["amr"], t["t7"], "accept", bj(d(8, 21)))

    t["t8"] = make_ticket(app, p["b"], "JC-002", bj(d(9, 30)))
    act(app, p["agri"], t["t8"], "accept", bj(d(10, 8)))
    act(app, p["agri"], t["t8"], "complete", bj(d(10, 20)))
    rate(app, p["b"], t["t8"], 3)
    return World(p, t)
