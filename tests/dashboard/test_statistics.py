"""services.stats (filters, reports) against the hand-computed fixture of tests/dashboard/conftest.py."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.core.errors import Forbidden, ValidationFailed
from services.models import Ticket
from services.stats import filters, reports
from services.tickets import workdays
from tests.dashboard.conftest import RANGE, TODAY, bj, d, make_ticket


def report(app, date_from=RANGE["from"], date_to=RANGE["to"], bureau=None, today=TODAY):
    with app.app_context():
        flt = filters.parse_filter(db.session, date_from, date_to, bureau, today=today)
        return reports.report(db.session, flt, today=today)


def test_hand_computed_figures_for_all_bureaus(app, world):
    rep = report(app)
    m = rep.totals
    assert (m.received, m.completed, m.rejected, m.withdrawn, m.open, m.overdue) == (7, 4, 1, 0, 2, 2)
    assert (m.due_counted, m.on_time) == (4, 3)
    assert m.on_time_rate == 75.0
    assert (m.handled, m.handling_days) == (4, 2 + 12 + 10 + 9)
    assert m.avg_handling_days == 8.3            # 8.25, rounded half up
    assert (m.accepted, m.acceptance_days) == (5, 2 + 0 + 2 + 1 + 1)
    assert m.avg_acceptance_days == 1.2
    assert (m.rated, m.score_total, m.bad) == (4, 5 + 4 + 2 + 3, 1)   # t2's round-2 4 replaces its 2
    assert m.satisfaction == 3.5
    assert m.bad_rate == 25.0


def test_holidays_count_on_the_official_calendar(app, world):
    """t1: accepted Wed 30 Sep, completed Fri 9 Oct → 8 and 9 Oct only (1–7 Oct off)."""
    with app.app_context():
        calendar = workdays.Calendar.from_session(db.session)
        assert calendar.workdays_between(d(9, 30), d(10, 9)) == 2
        t1 = db.session.scalar(select(Ticket).where(Ticket.number == world.t["t1"]))
        assert t1.due_date == d(10, 20)
    rep = report(app, "2026-09-28", "2026-09-28")
    assert rep.totals.received == 1 and rep.totals.avg_handling_days == 2.0
    assert rep.totals.avg_acceptance_days == 2.0 and rep.totals.on_time_rate == 100.0


def test_pause_is_subtracted_and_make_up_saturday_counts(app, world):
    rep = report(app, "2026-10-09", "2026-10-09")   # t3 only
    m = rep.totals
    assert m.received == 1 and m.avg_handling_days == 10.0   # 12 working days − 2 paused
    assert m.avg_acceptance_days == 2.0                       # Sat 10 Oct is a make-up working day
    assert m.on_time_rate == 100.0                            # completed on its due date (17:00)
    assert m.satisfaction == 2.0 and m.bad_rate == 100.0


def test_late_completion_and_the_latest_rating(app, world):
    rep = report(app, "2026-09-29", "2026-09-29")   # t2 only
    m = rep.totals
    assert m.on_time_rate == 0.0 and m.avg_handling_days == 12.0 and m.avg_acceptance_days == 0.0
    assert m.satisfaction == 4.0 and m.bad_rate == 0.0 and m.rated == 1


def test_bureau_filter_narrows_every_figure(app, world):
    amr = report(app, bureau="amr").totals
    assert (amr.received, amr.completed, amr.rejected, amr.open, amr.overdue) == (5, 3, 1, 1, 1)
    assert amr.on_time_rate == 66.7 and amr.avg_handling_days == 8.0
    assert amr.avg_acceptance_days == 1.3                      # 5/4 = 1.25 → 1.3
    assert amr.satisfaction == 3.67 and amr.bad_rate == 33.3
    agri = report(app, bureau="agri")
    m = agri.totals
    assert (m.received, m.completed, m.open, m.overdue) == (2, 1, 1, 1)
    assert (m.on_time_rate, m.avg_handling_days, m.avg_acceptance_days, m.satisfaction, m.bad_rate) == \
        (100.0, 9.0, 1.0, 3.0, 0.0)
    assert [o.number for o in agri.overdue] == [world.t["t5"]]
    assert {r.code for r in agri.by_bureau} == {"agri"}


def test_breakdowns_by_bureau_service_category_and_month(app, world):
    rep = report(app)
    by_bureau = {r.code: r.metrics for r in rep.by_bureau}
    assert set(by_bureau) == {"amr", "agri"}
    assert by_bureau["amr"].received == 5 and by_bureau["agri"].received == 2
    by_service = {r.code: r.metrics for r in rep.by_service}
    assert {k: v.received for k, v in by_service.items()} == {"JL-002": 5, "RZ-001": 1, "JC-002": 1}
    assert by_service["JL-002"].on_time_rate == 66.7 and by_service["JC-002"].avg_handling_days == 9.0
    assert [r.code for r in rep.by_service][0] == "JL-002"      # busiest first
    cats = {r.key: r.received for r in rep.by_category}
    assert cats["metrology"] == 5 and cats["certification"] == 1 and cats["testing"] == 1 and cats["ip"] == 0
    assert [(r.key, r.received, r.completed) for r in rep.by_month] == [("2026-09", 3, 3), ("2026-10", 4, 1)]


def test_overdue_list_follows_the_deadline_that_applies(app, world):
    rep = report(app)
    assert [(o.number, o.deadline_kind, o.due) for o in rep.overdue] == [
        (world.t["t5"], "签收", d(10, 16)), (world.t["t4"], "办理", d(10, 27))]
    t4 = next(o for o in rep.overdue if o.number == world.t["t4"])
    with app.app_context():
        assert t4.workdays_late == workdays.Calendar().workdays_between(d(10, 27), TODAY)
    # the same tickets were not overdue yet on 16 October
    early = report(app, today=d(10, 16))
    assert early.overdue == [] and early.totals.overdue == 0


def test_date_range_narrows_volumes_and_the_overdue_list(app, world):
    october = report(app, "2026-10-01", "2026-10-31").totals
    assert (october.received, october.completed, october.overdue) == (4, 1, 2)
    wider = report(app, "2026-08-01", "2026-10-31")
    assert wider.totals.received == 8 and world.t["t7"] in [o.number for o in wider.overdue]
    assert [r.key for r in wider.by_month] == ["2026-08", "2026-09", "2026-10"]


def test_submission_day_is_the_beijing_day(app, people):
    """00:30 on 1 Sep in Beijing is still 31 Aug in UTC: it belongs to September."""
    early = make_ticket(app, people["a"], "JL-002", bj(d(9, 1), 0, 30))
    late = make_ticket(app, people["a"], "JL-002", bj(d(8, 31), 23, 30))
    rep = report(app, "2026-09-01", "2026-09-30")
    assert rep.totals.received == 1
    assert [o.number for o in report(app, "2026-08-31", "2026-08-31").overdue] == [late]
    assert [(r.key, r.received) for r in report(app, "2026-08-01", "2026-09-30").by_month] == [
        ("2026-08", 1), ("2026-09", 1)]
    assert early != late


def test_no_tickets_gives_none_not_zero(app, people):
    m = report(app).totals
    assert m.received == 0 and m.on_time_rate is None and m.avg_handling_days is None
    assert m.satisfaction is None and m.bad_rate is None


@pytest.mark.parametrize("date_from,date_to,bureau,field,words", [
    ("2026-10-31", "2026-09-01", None, "from", "不能晚于"),
    ("2026-13-01", None, None, "from", "格式"),
    ("yesterday", None, None, "from", "格式"),
    (None, "2026/10/31", None, "to", "格式"),
    ("2020-01-01", "2025-01-01", None, "to", "5 年"),
    ("1900-01-01", None, None, "from", "2000"),
    (None, None, "nowhere", "bureau", "nowhere"),
])
def test_impossible_filters_are_refused_per_field(app, date_from, date_to, bureau, field, words):
    with app.app_context(), pytest.raises(ValidationFailed) as exc:
        filters.parse_filter(db.session, date_from, date_to, bureau, today=TODAY)
    assert field in exc.value.fields and words in exc.value.fields[field]


def test_defaults_and_the_longest_range(app):
    with app.app_context():
        flt = filters.parse_filter(db.session, today=TODAY)
        assert (flt.date_from, flt.date_to) == (date(2025, 12, 1), TODAY)
        flt = filters.parse_filter(db.session, "2021-01-01", "2025-12-31", "amr", today=TODAY)
        assert flt.bureau_code == "amr" and flt.bureau_name == "县市场监管局"
        assert flt.start.isoformat() == "2020-12-31T16:00:00+00:00"


def test_lead_scope_is_forced_and_other_roles_refused(app, people):
    with app.app_context():
        lead = accounts.get_by_username(db.session, people["amr_lead"])
        assert filters.filter_for(db.session, lead, bureau="agri", today=TODAY).bureau_code == "amr"
        sup = accounts.get_by_username(db.session, people["sup"])
        assert filters.filter_for(db.session, sup, bureau="agri", today=TODAY).bureau_code == "agri"
        assert filters.filter_for(db.session, sup, today=TODAY).bureau_code is None
        for who in ("amr", "a"):
            with pytest.raises(Forbidden):
                filters.filter_for(db.session, accounts.get_by_username(db.session, people[who]))


def test_histogram_means_equal_per_ticket_working_days(app, people):
    """The per-day histogram method gives exactly the per-ticket sum over random dates."""
    rng = random.Random(7)
    expected_handling = expected_accept = 0
    with app.app_context():
        calendar = workdays.Calendar()
    numbers = []
    for i in range(25):
        submitted = d(9, 1) + timedelta(days=rng.randrange(50))
        accepted = submitted + timedelta(days=rng.randrange(4))
        closed = accepted + timedelta(days=rng.randrange(30))
        number = make_ticket(app, people["a"], "JC-001", bj(submitted, rng.randrange(0, 9)))
        numbers.append(number)
        paused = rng.randrange(0, calendar.workdays_between(accepted, closed) + 1)
        with app.app_context():
            t = db.session.scalar(select(Ticket).where(Ticket.number == number))
            t.status, t.accepted_at, t.closed_at, t.paused_days = "completed", bj(accepted, 9), bj(closed, 16), paused
            t.due_date = closed
            db.session.commit()
        expected_handling += calendar.workdays_between(accepted, closed) - paused
        expected_accept += calendar.workdays_between(submitted, accepted)
    m = report(app, "2026-08-01", "2026-12-31").totals
    assert (m.handled, m.handling_days) == (25, expected_handling)
    assert (m.accepted, m.acceptance_days) == (25, expected_accept)
    assert m.on_time_rate == 100.0
