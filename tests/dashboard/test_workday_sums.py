"""The working-day sums computed in SQL (W(day) looked up in an array of the filter's days):
days outside the array, and the calendar warnings of uncovered years."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.extensions import db
from services.models import Ticket
from services.stats import filters, reports
from services.stats.sql import WorkdayNumbers
from services.tickets import workdays
from tests.dashboard.conftest import TODAY, bj, d, make_ticket


def report(app, date_from, date_to, today=TODAY):
    with app.app_context():
        flt = filters.parse_filter(db.session, date_from, date_to, today=today)
        return reports.report(db.session, flt, today=today)


def test_days_after_the_filter_and_today_are_still_counted(app, world):
    """t1 (submitted 28 Sep) was accepted on 30 Sep and completed on 9 Oct: with “today” on 29 Sep
    those days lie beyond the first array; the pass runs again on a wider one."""
    rep = report(app, "2026-09-28", "2026-09-28", today=d(9, 29))
    m = rep.totals
    assert (m.handled, m.handling_days, m.accepted, m.acceptance_days) == (1, 2, 1, 2)
    assert rep.warnings == []


def test_workday_numbers_match_the_calendar():
    calendar = workdays.Calendar()
    numbers = WorkdayNumbers(calendar, d(9, 20), d(10, 31))
    first = numbers.first
    for a in (d(9, 20), d(9, 30), d(10, 8)):
        for b in (d(10, 9), d(10, 10), d(10, 31)):
            between = numbers.numbers[(b - first).days] - numbers.numbers[(a - first).days]
            assert between == calendar.workdays_between(a, b)
    numbers.widen(d(9, 1), d(11, 2))
    assert (numbers.first, numbers.last, len(numbers.numbers)) == (d(9, 1), d(11, 2), 63)


def test_an_uncovered_year_warns_only_when_its_days_are_used(app, people):
    assert 2027 not in workdays.covered_years()
    assert report(app, "2027-01-01", "2027-03-31", today=date(2027, 3, 31)).warnings == []

    number = make_ticket(app, people["a"], "JC-001", bj(date(2027, 1, 5)))
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        t.status, t.accepted_at, t.closed_at, t.due_date = "completed", bj(date(2027, 1, 6)), bj(date(2027, 1, 8)), None
        db.session.commit()
    rep = report(app, "2027-01-01", "2027-03-31", today=date(2027, 3, 31))
    assert rep.warnings == [workdays.uncovered_message(2027)]
    assert (rep.totals.handling_days, rep.totals.acceptance_days) == (2, 1)   # Mon–Fri: Thu 7, Fri 8 / Wed 6
