"""Scenes for the access-policy tests, each on a clock that moves in steps (see scenes.py).

Accounts: the `people` of tests/plugins/people.py (enterprises A and B, amr and agri handlers, a
supervisor) plus the amr and agri leads, handlers of sti and commerce, and an admin.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import Ticket
from tests.helpers import make_staff
from tests.policy.scenes import JL002, PDF, Scene, act, at, routing_reason, submit


@pytest.fixture
def staff(app, people) -> dict[str, str]:
    """`people` plus leads of amr and agri, handlers of sti and commerce, an admin."""
    return {**people,
            "amr_lead": make_staff(app, "amr-lead", "lead", "amr"),
            "agri_lead": make_staff(app, "agri-lead", "lead", "agri"),
            "sti": make_staff(app, "sti-h", "handler", "sti"),
            "commerce": make_staff(app, "commerce-h", "handler", "commerce"),
            "admin": make_staff(app, "adm", "admin", None)}


@pytest.fixture
def co_handled(app, staff) -> Scene:
    """A's JL-002 request (ticket at amr) with a submitted PDF; the amr lead asks agri to co-handle.

    minute 0 submitted · 10 amr note (before the co-handling) · 20 co-handling asked · 30 amr reply
    with a PDF (public) — the co-handling is still open."""
    s = Scene(staff)
    with at(0):
        number, (ticket,), (material,) = submit(app, staff["a"], ["JL-002"], JL002, {"营业执照.pdf": PDF})
    s.numbers.update(request=number, ticket=ticket)
    s.files["material"] = material
    s.texts.update(before="amr内部备注：核对计量器具台账", ask="请农业农村局提供检测意见",
                   reply="已安排现场检定，请备好设备")
    with at(5):
        act(app, staff["amr"], ticket, "accept")
    with at(10):
        act(app, staff["amr"], ticket, "note", s.texts["before"])
    with at(20):
        act(app, staff["amr_lead"], ticket, "co_handle", s.texts["ask"], "agri")
    with at(30):
        (s.files["reply"],) = act(app, staff["amr"], ticket, "reply", s.texts["reply"], files={"检定通知.pdf": PDF})
    return s


@pytest.fixture
def co_answered(app, co_handled) -> Scene:
    """`co_handled`, then agri answers at minute 40; amr writes a note at minute 50."""
    s = co_handled
    s.texts.update(answer="协办意见：样品农残检测合格", after="amr内部备注：协办结束后另行约谈企业")
    with at(40):
        act(app, s.people["agri"], s.numbers["ticket"], "co_reply", s.texts["answer"])
    with at(50):
        act(app, s.people["amr"], s.numbers["ticket"], "note", s.texts["after"])
    return s


@pytest.fixture
def bundle(app, staff) -> Scene:
    """A's bundle JL-002 + RZ-001: one request, a ticket at amr and one at agri. amr writes an
    internal note and replies with a file; agri writes its own note."""
    s = Scene(staff)
    with at(0):
        number, numbers, _ = submit(app, staff["a"], ["JL-002", "RZ-001"], JL002)
    with app.app_context():
        by_bureau = {t.bureau.code: t.number for t in
                     db.session.scalars(select(Ticket).where(Ticket.number.in_(numbers)))}
    s.numbers.update(request=number, amr=by_bureau["amr"], agri=by_bureau["agri"])
    s.texts.update(amr_note="amr内部备注：该企业去年有过计量违法记录", amr_reason=routing_reason(app, by_bureau["amr"]),
                   agri_note="agri内部备注：绿色食品材料齐全", amr_reply="请补充设备出厂编号")
    with at(10):
        act(app, staff["amr"], s.numbers["amr"], "accept")
        act(app, staff["amr"], s.numbers["amr"], "note", s.texts["amr_note"])
    with at(20):
        (s.files["amr_reply"],) = act(app, staff["amr"], s.numbers["amr"], "reply", s.texts["amr_reply"],
                                      files={"amr答复.pdf": PDF})
    with at(30):
        act(app, staff["agri"], s.numbers["agri"], "note", s.texts["agri_note"])
    return s
