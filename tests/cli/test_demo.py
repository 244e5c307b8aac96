"""`init --demo`: a few months of the demo county's requests across bureaus and statuses, written
through the real services with the clock moved back; once only; none without --demo."""
from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db, search
from services import seed
from services.accounts import uscc
from services.core import statuses
from services.demo import run as demo_run
from services.models import CoHandler, Enterprise, OutboxMessage, Rating, Request, Service, Ticket, TicketEvent, User
from services.tickets import actions, workdays
from tests import databases
from tests.conftest import make_app
from tests.helpers import soup


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A fresh instance after `init --demo` twice: (app, first output, second output)."""
    instance = tmp_path_factory.mktemp("demo")
    uri = name = None
    if databases.using_postgres():
        uri, name = databases.new_template("demo")
    app = make_app(instance, uri)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init", "--demo"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = _counts()
    second = runner.invoke(args=["init", "--demo"])
    assert second.exit_code == 0, second.output
    yield app, first.output, second.output, counts
    app.extensions["portal.db"].engine.dispose()
    if name:
        databases.drop(name)


def _counts() -> dict[str, int]:
    s = db.session
    return {model.__name__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Request, Ticket, TicketEvent, Rating, User, Enterprise, OutboxMessage)}


def test_demo_has_every_status_across_bureaus_and_enterprises(demo):
    app, output, _second, _counts_ = demo
    assert "注意" not in output  # no story the portal refused
    assert re.search(r"演示办件：\d+ 件申请", output)
    with app.app_context():  # every story was submitted
        assert db.session.scalar(select(func.count(Request.id))) == len(demo_run.script.KEY_STORIES) + demo_run.EVERYDAY
    with app.app_context():
        s = db.session
        tickets = list(s.scalars(select(Ticket)))
        found = {t.status for t in tickets}
        assert {statuses.SUBMITTED, statuses.ACCEPTED, statuses.IN_PROGRESS, statuses.NEED_INFO, statuses.COMPLETED,
                statuses.REJECTED, statuses.RETURNED, statuses.WITHDRAWN} <= found
        assert len({t.bureau.code for t in tickets}) >= 5
        assert Counter(t.bureau.code for t in tickets)["agri"] >= 3
        kinds = Counter(e.kind for e in s.scalars(select(TicketEvent)))
        for kind in ("transfer", "co_handle", "co_reply", "supervise", "request_info", "info_provided", "rating",
                     "follow_up", "assign", "claim", "late_acceptance", "reject", "withdrawn", "return"):
            assert kinds[kind], kind
        # 补正 awaiting an answer and answered ones; co-handling open and ended.
        assert any(t.status == statuses.NEED_INFO and t.paused_at is not None for t in tickets)
        assert {c.done_at is None for c in s.scalars(select(CoHandler))} == {True, False}
        # Overdue now, by the working-day calendar (and 督办 for it).
        calendar = workdays.Calendar.from_session(s)
        overdue = [t for t in tickets if actions.due_state(calendar, t) == "overdue"]
        assert len(overdue) >= 2 and any(t.supervised_at for t in overdue)
        # 差评: followed up and rated again; one still waiting for its lead.
        bad = list(s.scalars(select(Rating).where(Rating.score <= 2, Rating.round == 1)))
        assert any(r.follow_up_at for r in bad) and any(r.follow_up_at is None for r in bad)
        assert s.scalar(select(func.count(Rating.id)).where(Rating.round == 2))
        # Several enterprises from different townships and industries, each with a valid code.
        enterprises = list(s.scalars(select(Enterprise).where(Enterprise.id.in_(select(Request.enterprise_id)))))
        assert len(enterprises) >= 6
        assert len({e.township for e in enterprises}) >= 5 and len({e.industry for e in enterprises}) >= 5
        assert all(uscc.is_valid(e.uscc) for e in enterprises)
        # A few months, consistent timestamps: numbers follow the Beijing date of submission.
        requests = list(s.scalars(select(Request).order_by(Request.id)))
        first, last = requests[0].created_at, requests[-1].created_at
        assert (last - first).days >= 90
        assert [r.created_at for r in requests] == sorted(r.created_at for r in requests)
        for t in tickets:
            events = sorted(e.created_at for e in t.request.events if e.ticket_id == t.id)
            assert events[0] >= t.created_at - timedelta(seconds=1)
            if t.accepted_at and t.due_date:
                assert t.due_date > t.accepted_at.date()
        # The history's mail is in the local mailbox, none left for a real mail server.
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))) == 0
        assert len(list(Path(app.config["MAIL_FOLDER"]).glob("*.eml"))) > 50


def test_running_it_again_adds_nothing(demo):
    app, _first, second, counts = demo
    assert "演示办件已存在，未重复创建" in second
    with app.app_context():
        assert _counts() == counts


def test_the_ticket_index_has_the_demo_tickets(demo):
    app, *_ = demo
    with app.app_context():
        total = db.session.scalar(select(func.count(Ticket.id)))
        assert search.tickets.doc_count() == total
        found = search.tickets.search("兰江", bureau_ids=None)
        assert found and all(n.startswith("LX") for n in found)


def test_the_demo_lead_sees_a_working_queue_and_dashboard(demo):
    app, *_ = demo
    client = app.test_client()
    page = client.get("/account/login")
    token = soup(page).select_one("input[name=csrf_token]")["value"]
    response = client.post("/account/login", data={"login": "amr-lead", "password": seed.DEMO_PASSWORD,
                                                   "csrf_token": token})
    assert response.status_code == 302
    queue = soup(client.get("/staff/queue"))
    rows = queue.select(".ticket-row")
    assert len(rows) >= 5
    assert queue.select(".due-overdue") and "督办" in queue.get_text()
    dashboard = soup(client.get("/dashboard/bureau"))
    values = [k.select_one(".kpi-value").get_text(strip=True) for k in dashboard.select("#kpis .kpi")]
    assert values and any(v not in ("0", "—", "-", "") for v in values)
    follow_ups = soup(client.get("/staff/follow-ups"))
    assert "LX" in follow_ups.get_text()
    searched = soup(client.get("/staff/queue?q=兰江"))
    assert searched.select(".ticket-row")


def test_the_public_performance_page_has_figures(demo):
    app, *_ = demo
    page = soup(app.test_client().get("/performance"))
    received = page.select_one("#kpis .kpi .kpi-value").get_text(strip=True)
    assert int(received) > 50


def test_init_without_demo_creates_no_requests_or_accounts(fresh_database):
    app = make_app(*fresh_database)
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Request.id))) == 0
        assert db.session.scalar(select(func.count(User.id))) == 0
        app.extensions["portal.db"].engine.dispose()


def test_the_everyday_requests_are_the_same_every_time():
    published = {code: 10 for code in {k.code for k in demo_run.script.POOL}}
    one = demo_run.everyday_stories(random.Random(demo_run.SEED), published)
    two = demo_run.everyday_stories(random.Random(demo_run.SEED), published)
    assert one == two and len(one) == demo_run.EVERYDAY


def test_demo_enterprise_codes_are_valid():
    assert all(uscc.is_valid(code) for code in seed.DEMO_ENTERPRISES)
    assert {row[3] for row in seed.DEMO_ACCOUNTS if row[1] == "enterprise"} <= set(seed.DEMO_ENTERPRISES)
    assert Service  # the catalog model the stories draw on
