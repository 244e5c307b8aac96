"""services.policy on its own: the rules of its docstring, on objects that never touch a database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services import policy
from services.core.errors import Forbidden
from services.models import Attachment, Bureau, CoHandler, Request, Ticket, TicketEvent, User
from services.policy import Access
from services.tickets.workflow import ACTIONS

AMR, AGRI, STI = 1, 2, 3
ENT_A, ENT_B = 10, 20
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def person(role: str, bureau: int | None = None, enterprise: int | None = None, active: bool = True) -> User:
    user = User(username=f"{role}-{bureau or enterprise}", role=role, bureau_id=bureau, enterprise_id=enterprise,
                active=active)
    if bureau is not None:
        user.bureau = Bureau(id=bureau, code={AMR: "amr", AGRI: "agri", STI: "sti"}[bureau], name="", short_name="")
    return user


def ticket(bureau: int = AMR, co: dict[int, datetime | None] | None = None, request: Request | None = None) -> Ticket:
    """A ticket of `bureau`; `co` maps a co-handling bureau to when it answered (None: still open)."""
    t = Ticket(bureau_id=bureau)
    for b, done in (co or {}).items():
        t.co_handlers.append(CoHandler(bureau_id=b, done_at=done))
    if request is not None:
        request.tickets.append(t)
    return t


def event(request: Request, t: Ticket | None, kind: str, minutes: int, public: bool) -> TicketEvent:
    e = TicketEvent(request=request, ticket=t, kind=kind, message=f"{kind}@{minutes}", public=public)
    e.ticket_id = id(t) if t is not None else None   # transient objects: any non-None id marks a ticket line
    e.created_at = at(minutes)
    return e


HANDLER_AMR = person("handler", AMR)
LEAD_AMR = person("lead", AMR)
HANDLER_AGRI = person("handler", AGRI)
LEAD_AGRI = person("lead", AGRI)
HANDLER_STI = person("handler", STI)
SUPERVISOR = person("supervisor")
ADMIN = person("admin")
ENTERPRISE_A = person("enterprise", enterprise=ENT_A)
ENTERPRISE_B = person("enterprise", enterprise=ENT_B)


# --------------------------------------------------------------------------- tickets
@pytest.mark.parametrize(("user", "co", "access"), [
    (SUPERVISOR, {}, Access.OWN),
    (ADMIN, {}, Access.OWN),
    (HANDLER_AMR, {}, Access.OWN),
    (LEAD_AMR, {}, Access.OWN),
    (HANDLER_AGRI, {AGRI: None}, Access.CO),
    (LEAD_AGRI, {AGRI: None}, Access.CO),
    (HANDLER_AGRI, {AGRI: at(30)}, Access.CO_ENDED),
    (HANDLER_AGRI, {}, Access.NONE),
    (HANDLER_STI, {AGRI: None}, Access.NONE),
    (ENTERPRISE_A, {}, Access.NONE),
    (None, {}, Access.NONE),
    (person("handler", AMR, active=False), {}, Access.NONE),
    (person("handler", None), {}, Access.NONE),
    (person("supervisor", active=False), {}, Access.NONE),
], ids=lambda v: getattr(v, "username", None) or repr(v))
def test_ticket_access(user, co, access):
    t = ticket(AMR, co)
    assert policy.ticket_access(user, t) is access
    assert policy.can_see_ticket(user, t) is (access is not Access.NONE)
    assert policy.can_act_on_ticket(user, t) is (access is Access.OWN)


def test_a_supervisor_with_a_bureau_still_sees_everything():
    assert policy.ticket_access(person("supervisor", STI), ticket(AMR)) is Access.OWN


def test_seen_until_is_the_answer_of_an_ended_co_handling():
    answered = ticket(AMR, {AGRI: at(30)})
    assert policy.seen_until(HANDLER_AGRI, answered) == at(30)
    assert policy.seen_until(HANDLER_AGRI, ticket(AMR, {AGRI: None})) is None
    assert policy.seen_until(HANDLER_AMR, answered) is None
    assert policy.seen_until(SUPERVISOR, answered) is None


def _check(user, t, name):
    a = ACTIONS[name]
    policy.check_action(user, t, a.name, a.roles, a.label)


def test_the_co_handling_bureau_may_only_give_its_opinion_while_it_is_open():
    open_ = ticket(AMR, {AGRI: None})
    _check(HANDLER_AGRI, open_, "co_reply")
    for name in ("note", "reply", "complete", "accept", "return"):
        with pytest.raises(Forbidden):
            _check(HANDLER_AGRI, open_, name)
    answered = ticket(AMR, {AGRI: at(30)})
    for name in ("co_reply", "note"):
        with pytest.raises(Forbidden):
            _check(HANDLER_AGRI, answered, name)


def test_the_own_bureau_acts_but_gives_no_co_handling_opinion_to_itself():
    t = ticket(AMR, {AGRI: None})
    for name in ("note", "reply", "complete", "accept"):
        _check(HANDLER_AMR, t, name)
    with pytest.raises(Forbidden):
        _check(HANDLER_AMR, t, "co_reply")


def test_another_bureau_and_a_missing_role_are_refused():
    with pytest.raises(Forbidden):
        _check(HANDLER_STI, ticket(AMR), "note")
    with pytest.raises(Forbidden):
        _check(HANDLER_AMR, ticket(AMR), "transfer")       # leads only
    with pytest.raises(Forbidden):
        _check(HANDLER_AMR, ticket(AMR), "supervise")      # the joint office only
    _check(LEAD_AMR, ticket(AMR), "transfer")


def test_county_wide_staff_act_on_any_ticket():
    for user in (SUPERVISOR, ADMIN):
        for name in ("note", "transfer", "supervise", "co_handle"):
            _check(user, ticket(STI), name)


def test_claim_is_for_the_bureaus_own_staff_and_assign_for_its_lead():
    policy.check_own_bureau(HANDLER_AMR, ticket(AMR), "x")
    policy.check_own_bureau(LEAD_AMR, ticket(AMR), "x")
    for user in (HANDLER_AGRI, SUPERVISOR, ADMIN):
        with pytest.raises(Forbidden):
            policy.check_own_bureau(user, ticket(AMR, {AGRI: None}), "x")
    policy.check_assign(LEAD_AMR, ticket(AMR))
    policy.check_assign(SUPERVISOR, ticket(AMR))
    for user in (HANDLER_AMR, LEAD_AGRI):
        with pytest.raises(Forbidden):
            policy.check_assign(user, ticket(AMR))


def test_search_scope():
    assert policy.search_scope(SUPERVISOR) is None and policy.search_scope(ADMIN) is None
    assert policy.search_scope(HANDLER_AMR) == {AMR} and policy.search_scope(LEAD_AGRI) == {AGRI}
    assert policy.search_scope(ENTERPRISE_A) == set()
    assert policy.search_scope(person("handler", AMR, active=False)) == set()


# --------------------------------------------------------------------------- requests and their timelines
@pytest.fixture
def bundle():
    """A's request with a ticket at amr and one at agri, and a history for each."""
    r = Request(enterprise_id=ENT_A)
    amr, agri = ticket(AMR, request=r), ticket(AGRI, request=r)
    lines = {
        "amr_submitted": event(r, amr, "submitted", 0, True),
        "amr_routed": event(r, amr, "routed", 0, False),
        "agri_submitted": event(r, agri, "submitted", 0, True),
        "agri_routed": event(r, agri, "routed", 0, False),
        "amr_note": event(r, amr, "note", 10, False),
        "amr_reply": event(r, amr, "reply", 20, True),
        "agri_note": event(r, agri, "note", 30, False),
        "request_public": event(r, None, "withdraw_refused", 40, True),
        "request_internal": event(r, None, "triage", 50, False),
    }
    return r, amr, agri, lines


def _visible(user, r, lines) -> set[str]:
    ids = {id(e) for e in policy.visible_events(user, r)}
    return {name for name, e in lines.items() if id(e) in ids}


def test_a_bureau_reads_only_its_own_tickets_lines_of_a_bundle(bundle):
    r, _, _, lines = bundle
    assert _visible(HANDLER_AGRI, r, lines) == {"agri_submitted", "agri_routed", "agri_note", "request_public"}
    assert _visible(HANDLER_AMR, r, lines) == {"amr_submitted", "amr_routed", "amr_note", "amr_reply",
                                                "request_public"}


def test_the_enterprise_reads_the_public_lines_of_every_ticket(bundle):
    r, _, _, lines = bundle
    assert _visible(ENTERPRISE_A, r, lines) == {"amr_submitted", "agri_submitted", "amr_reply", "request_public"}
    assert _visible(ENTERPRISE_B, r, lines) == set()


def test_county_wide_staff_read_everything(bundle):
    r, _, _, lines = bundle
    assert _visible(SUPERVISOR, r, lines) == set(lines)
    assert _visible(ADMIN, r, lines) == set(lines)


def test_nobody_else_reads_anything(bundle):
    r, _, _, lines = bundle
    for user in (HANDLER_STI, None, person("handler", AMR, active=False)):
        assert _visible(user, r, lines) == set()


def test_an_ended_co_handling_reads_the_history_up_to_its_answer():
    r = Request(enterprise_id=ENT_A)
    t = ticket(AMR, {AGRI: at(25)}, request=r)
    lines = {
        "submitted": event(r, t, "submitted", 0, True),
        "note_before": event(r, t, "note", 10, False),
        "ask": event(r, t, "co_handle", 20, False),
        "answer": event(r, t, "co_reply", 25, False),
        "note_after": event(r, t, "note", 26, False),
        "reply_after": event(r, t, "reply", 30, True),
    }
    assert _visible(HANDLER_AGRI, r, lines) == {"submitted", "note_before", "ask", "answer"}
    t.co_handlers[0].done_at = None   # while it is open: everything
    assert _visible(HANDLER_AGRI, r, lines) == set(lines)


def test_who_sees_a_request():
    r = Request(enterprise_id=ENT_A)
    ticket(AMR, {AGRI: at(30)}, request=r)
    assert policy.can_see_request(ENTERPRISE_A, r) and not policy.can_see_request(ENTERPRISE_B, r)
    assert not policy.can_see_request(person("enterprise"), r)          # an account without enterprise
    assert policy.can_see_request(HANDLER_AMR, r) and policy.can_see_request(HANDLER_AGRI, r)
    assert not policy.can_see_request(HANDLER_STI, r)
    assert policy.can_see_request(SUPERVISOR, r) and not policy.can_see_request(None, r)
    assert not policy.can_see_request(person("enterprise", enterprise=ENT_A, active=False), r)
    assert policy.is_enterprise_owner(ENTERPRISE_A, r) and not policy.is_enterprise_owner(ENTERPRISE_B, r)
    assert not policy.is_enterprise_owner(HANDLER_AMR, r)


def test_attachments_follow_their_event_and_materials_follow_the_request(bundle):
    r, _, _, lines = bundle
    material = Attachment(request=r, original_name="营业执照.pdf")
    reply_file = Attachment(request=r, event=lines["amr_reply"], original_name="答复.pdf")
    note_file = Attachment(request=r, event=lines["amr_note"], original_name="内部.pdf")
    assert policy.can_see_attachment(HANDLER_AGRI, material)
    assert not policy.can_see_attachment(HANDLER_AGRI, reply_file)
    assert not policy.can_see_attachment(HANDLER_AGRI, note_file)
    assert policy.can_see_attachment(ENTERPRISE_A, reply_file)
    assert not policy.can_see_attachment(ENTERPRISE_A, note_file)
    assert policy.can_see_attachment(HANDLER_AMR, note_file)
    for user in (ENTERPRISE_B, HANDLER_STI, None):
        assert not policy.can_see_attachment(user, material)


# --------------------------------------------------------------------------- dashboards
def test_dashboard_bureau():
    assert policy.dashboard_bureau(SUPERVISOR, "agri") == "agri"
    assert policy.dashboard_bureau(ADMIN, None) is None
    assert policy.dashboard_bureau(LEAD_AMR, "agri") == "amr"     # a lead only ever gets the own bureau
    assert policy.dashboard_bureau(LEAD_AMR, None) == "amr"
    for user in (HANDLER_AMR, ENTERPRISE_A, None, person("lead", None), person("supervisor", active=False)):
        with pytest.raises(Forbidden):
            policy.dashboard_bureau(user, None)
