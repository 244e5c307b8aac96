"""The SQL forms of the policy say what its Python forms say, for every account and every object:
a list never shows more (or less) than the pages would."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services import policy
from services.models import Enterprise, Request, Ticket, User
from services.policy import Access
from tests.policy.scenes import act, at, submit


@pytest.fixture
def everything(app, staff, co_answered, bundle):
    """Every scene at once, and B's RZ-001 ticket, which the agri lead transfers to commerce."""
    with at(60):
        _, (b_ticket,), _ = submit(app, staff["b"], ["RZ-001"])
    with at(70):
        act(app, staff["agri_lead"], b_ticket, "transfer", "属于商务局职责", "commerce")
    with app.app_context():
        disabled = db.session.scalar(select(User).where(User.username == staff["amr"]))
        db.session.add(User(username="amr-off", role="handler", bureau_id=disabled.bureau_id, password_hash="x",
                            active=False))
        db.session.commit()
    return staff


def _users():
    return db.session.scalars(select(User).order_by(User.id)).all()


def test_requests_clause_is_can_see_request(app, everything):
    with app.app_context():
        requests = db.session.scalars(select(Request)).all()
        assert len(requests) == 3
        for user in _users():
            clause = policy.requests_clause(user)
            query = select(Request.id) if clause is None else select(Request.id).where(clause)
            listed = set(db.session.scalars(query))
            seen = {r.id for r in requests if policy.can_see_request(user, r)}
            assert listed == seen, user.username


def test_the_queue_is_the_own_bureaus_tickets_and_open_co_handlings(app, everything):
    with app.app_context():
        tickets = db.session.scalars(select(Ticket)).all()
        for user in _users():
            if not policy.is_staff(user):
                assert policy.visible_tickets_clause(user) is not None
                assert not set(db.session.scalars(select(Ticket.id).where(policy.visible_tickets_clause(user))))
                continue
            listed = set(db.session.scalars(select(Ticket.id).where(policy.visible_tickets_clause(user))))
            queue = {t.id for t in tickets if policy.ticket_access(user, t) in (Access.OWN, Access.CO)}
            assert listed == queue, user.username


def test_an_answered_co_handling_is_out_of_the_queue_but_still_visible(app, everything, co_answered):
    with app.app_context():
        agri = db.session.scalar(select(User).where(User.username == everything["agri"]))
        t = db.session.scalar(select(Ticket).where(Ticket.number == co_answered.numbers["ticket"]))
        assert policy.ticket_access(agri, t) is Access.CO_ENDED
        assert t.id not in set(db.session.scalars(select(Ticket.id).where(policy.visible_tickets_clause(agri))))
        assert t.request.id in set(db.session.scalars(select(Request.id).where(policy.requests_clause(agri))))


def test_the_quality_file_lists_the_tickets_the_user_may_see(app, everything):
    with app.app_context():
        tickets = db.session.scalars(select(Ticket)).all()
        for user in _users():
            if not policy.is_staff(user):
                continue
            clause = policy.enterprise_file_tickets_clause(user)
            listed = set(db.session.scalars(select(Ticket.id).where(clause)))
            assert listed == {t.id for t in tickets if policy.can_see_ticket(user, t)}, user.username


def test_the_quality_file_opens_wherever_a_ticket_of_it_is_visible(app, everything):
    with app.app_context():
        for enterprise in db.session.scalars(select(Enterprise)):
            its = [t for t in db.session.scalars(select(Ticket).join(Request).where(
                Request.enterprise_id == enterprise.id))]
            for user in _users():
                opens = policy.can_see_enterprise_file(db.session, user, enterprise)
                if any(policy.can_see_ticket(user, t) for t in its):
                    assert opens, (user.username, enterprise.uscc)
                if not policy.is_staff(user):
                    assert not opens, (user.username, enterprise.uscc)


def test_the_bureau_that_transferred_a_ticket_away_keeps_the_file_but_not_the_ticket(app, everything):
    with app.app_context():
        agri = db.session.scalar(select(User).where(User.username == everything["agri"]))
        sti = db.session.scalar(select(User).where(User.username == everything["sti"]))
        b = db.session.scalar(select(Enterprise).where(Enterprise.name == "澧县澧水纺织有限公司"))
        b_tickets = db.session.scalars(select(Ticket).join(Request).where(Request.enterprise_id == b.id)).all()
        assert [t.bureau.code for t in b_tickets] == ["commerce"]
        assert not policy.can_see_ticket(agri, b_tickets[0])
        assert policy.can_see_enterprise_file(db.session, agri, b)
        assert not policy.can_see_enterprise_file(db.session, sti, b)


def test_search_scope_covers_the_own_bureau_only(app, everything):
    with app.app_context():
        for user in _users():
            scope = policy.search_scope(user)
            if policy.county_wide(user):
                assert scope is None
            elif policy.is_staff(user) and user.role in ("handler", "lead"):
                assert scope == {user.bureau_id}
            else:
                assert scope == set()
