"""质量档案 /staff/enterprises/<uscc>: the enterprise's contact name, mobile and e-mail are for the
bureaus that work for it. It opens for staff whose bureau has, had (transferred away) or
co-handles one of its tickets, and for supervisors and admins; anyone else gets 404 and none of
the contact data."""
from __future__ import annotations

import pytest

from tests.helpers import USCC_A, USCC_B, login, make_staff
from tests.policy.scenes import JL002, act, at, submit

# Company name, contact name, mobile, e-mail (A's from tests/helpers.py profile()).
CONTACT_A = ("澧县兰江食品有限公司", "李华", "13907361234", "lihua@example.com")
CONTACT_B = ("澧县澧水纺织有限公司", "王强", "13907365678", "wq@example.com")


@pytest.fixture
def files(app, staff):
    """A: a JL-002 ticket at amr, co-handled by sti. B (own contact data): RZ-001 at agri, which the
    agri lead transfers to commerce."""
    from portal.extensions import db
    from services.accounts import users as accounts
    from tests.helpers import profile

    with app.app_context():
        b = accounts.get_by_username(db.session, staff["b"])
        accounts.update_profile(db.session, b, profile(USCC_B, CONTACT_B[0], contact_name=CONTACT_B[1],
                                                       mobile=CONTACT_B[2], email=CONTACT_B[3]))
    with at(0):
        _, (a_ticket,), _ = submit(app, staff["a"], ["JL-002"], JL002)
        _, (b_ticket,), _ = submit(app, staff["b"], ["RZ-001"])
    with at(10):
        act(app, staff["amr"], a_ticket, "accept")
        act(app, staff["amr_lead"], a_ticket, "co_handle", "请科技局协助", "sti")
        act(app, staff["agri_lead"], b_ticket, "transfer", "属于商务局职责", "commerce")
    return {"a": a_ticket, "b": b_ticket}


def _opens(client, uscc: str, contact: tuple[str, ...]) -> None:
    response = client.get(f"/staff/enterprises/{uscc}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for value in contact:
        assert value in text


def _refused(client, uscc: str, contact: tuple[str, ...]) -> None:
    response = client.get(f"/staff/enterprises/{uscc}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    for value in contact:   # (the code itself is in the page's own links)
        assert value not in text


@pytest.mark.parametrize(("who", "uscc", "contact"), [
    ("amr", USCC_A, CONTACT_A),          # holds A's ticket
    ("amr_lead", USCC_A, CONTACT_A),
    ("sti", USCC_A, CONTACT_A),          # co-handles it
    ("commerce", USCC_B, CONTACT_B),     # holds B's ticket since the transfer
    ("agri", USCC_B, CONTACT_B),         # had it: transferred away
    ("agri_lead", USCC_B, CONTACT_B),
    ("sup", USCC_A, CONTACT_A), ("sup", USCC_B, CONTACT_B),
    ("admin", USCC_A, CONTACT_A), ("admin", USCC_B, CONTACT_B),
])
def test_the_file_opens_for_the_bureaus_that_work_for_the_enterprise(client, staff, files, who, uscc, contact):
    login(client, staff[who])
    _opens(client, uscc, contact)


@pytest.mark.parametrize(("who", "uscc", "contact"), [
    ("agri", USCC_A, CONTACT_A),         # never had one of A's tickets
    ("commerce", USCC_A, CONTACT_A),
    ("amr", USCC_B, CONTACT_B),
    ("sti", USCC_B, CONTACT_B),
])
def test_anyone_else_gets_404_and_no_contact_data(client, staff, files, who, uscc, contact):
    login(client, staff[who])
    _refused(client, uscc, contact)


def test_a_lead_of_an_uninvolved_bureau_gets_404(app, client, staff, files):
    login(client, make_staff(app, "commerce-lead", "lead", "commerce"))
    _refused(client, USCC_A, CONTACT_A)


def test_the_co_handling_bureau_keeps_the_file_after_its_answer(client, staff, files):
    with at(20):
        act(client.application, staff["sti"], files["a"], "co_reply", "已提供意见")
    login(client, staff["sti"])
    _opens(client, USCC_A, CONTACT_A)


def test_enterprises_are_refused_even_their_own_file(client, staff, files):
    login(client, staff["a"])
    response = client.get(f"/staff/enterprises/{USCC_A}")
    assert response.status_code == 403
    assert CONTACT_A[2] not in response.get_data(as_text=True)
