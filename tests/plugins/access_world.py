"""A small world of real objects and the nine personas the access tests speak of.

Personas: anonymous, enterprise A, enterprise B, a handler of the bureau A's request was routed
to (amr), a handler of another bureau (sti), a handler of a bureau co-handling A's ticket (agri,
co-handling open), the amr lead, a supervisor and an admin.

Objects: A's request for JL-001 (ticket at amr, co-handled by agri) with one submitted PDF; A's
second request (JL-002) completed by amr and rated 2 (a 差评 waiting for its follow-up); one API
token of A to revoke; a routing rule, a bundle, a holiday override and a spare account for the
admin pages.

The world is built once per test session on a copy of the seeded catalog; `access_world_app`
gives each test its own copy of it, so a test may change anything.
"""
from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.models import ApiToken, Bundle, BundleService, Bureau, HolidayOverride, Rating, RoutingRule, Service
from services.requests import submission as reqsvc
from services.requests import uploads
from services.tickets import actions as tickets
from services.tickets import ratings
from tests import databases
from tests.helpers import USCC_A, USCC_B, make_enterprise, make_staff

#: Persona -> (role, bureau); None: not logged in.
PERSONAS: dict[str, tuple[str, str | None] | None] = {
    "anonymous": None,
    "enterprise_a": ("enterprise", None),
    "enterprise_b": ("enterprise", None),
    "routed_handler": ("handler", "amr"),
    "other_handler": ("handler", "sti"),
    "co_handler": ("handler", "agri"),
    "lead": ("lead", "amr"),
    "supervisor": ("supervisor", None),
    "admin": ("admin", None),
}
USERNAMES = {"routed_handler": "amr-h", "other_handler": "sti-h", "co_handler": "agri-h", "lead": "amr-lead",
             "supervisor": "sup", "admin": "adm"}
#: What the request form asked of A; the quality file must not show it to outsiders.
CONTACT_A = {"contact_name": "李华", "mobile": "13907361234", "email": "lihua@example.com"}


@dataclass
class AccessWorld:
    usernames: dict[str, str] = field(default_factory=dict)    # persona -> login
    api_tokens: dict[str, str] = field(default_factory=dict)   # persona -> bearer token
    request: str = ""            # A's request (JL-001, ticket at amr, co-handled by agri)
    ticket: str = ""             # its ticket
    attachment: int = 0          # the PDF submitted with it
    rated_request: str = ""      # A's completed JL-002 request
    rated_ticket: str = ""
    rating: int = 0              # A's 差评 of it, round 1, no follow-up yet
    token_id: int = 0            # a spare API token of A
    rule_id: int = 0
    user_id: int = 0             # a spare account for the admin pages
    bundle: str = "access-bundle"
    holiday: str = "2031-01-02"
    uscc: str = USCC_A


def build_access_world(app) -> AccessWorld:
    w = AccessWorld()
    w.usernames["enterprise_a"] = make_enterprise(app, USCC_A, "澧县兰江食品有限公司")
    w.usernames["enterprise_b"] = make_enterprise(app, USCC_B, "澧县澧水纺织有限公司", contact_name="王强",
                                                  mobile="13907365678", email="wq@example.com")
    for persona, username in USERNAMES.items():
        role, bureau = PERSONAS[persona]
        w.usernames[persona] = make_staff(app, username, role, bureau)
    with app.app_context():
        s = db.session
        user = {p: accounts.get_by_username(s, u) for p, u in w.usernames.items()}
        a = user["enterprise_a"]
        pdf = uploads.Incoming("营业执照.pdf", io.BytesIO(b"%PDF-1.4 x"))
        sub = reqsvc.Submission(services=["JL-001"], attributes={"JL-001": {"capacity": 60, "mode": "lab"}},
                                description="地磅年检", files=[pdf])
        req, _ = reqsvc.submit(s, a, sub, app.config["UPLOAD_DIR"])
        w.request, w.ticket = req.number, req.tickets[0].number
        w.attachment = req.attachments[0].id
        tickets.perform(s, user["routed_handler"], w.ticket, tickets.ActionInput("accept"))
        tickets.perform(s, user["lead"], w.ticket, tickets.ActionInput("co_handle", "请协助核实", "agri"))

        req2, _ = reqsvc.submit(s, a, reqsvc.Submission(services=["JL-002"],
                                                        attributes={"JL-002": {"instrument": "电子秤"}}),
                                app.config["UPLOAD_DIR"])
        w.rated_request, w.rated_ticket = req2.number, req2.tickets[0].number
        for action, message in (("accept", ""), ("complete", "检定合格")):
            tickets.perform(s, user["routed_handler"], w.rated_ticket, tickets.ActionInput(action, message))
        ratings.rate(s, a, w.rated_request, w.rated_ticket, 2, "等太久")
        w.rating = s.scalar(select(Rating.id).where(Rating.round == 1))

        for persona in w.usernames:
            w.api_tokens[persona] = accounts.issue_token(s, user[persona], "access tests")
        accounts.issue_token(s, a, "spare")
        w.token_id = s.scalar(select(ApiToken.id).where(ApiToken.user_id == a.id, ApiToken.name == "spare"))

        sti = s.scalar(select(Bureau).where(Bureau.code == "sti"))
        rule = RoutingRule(name="测试规则", priority=50, bureau=sti, conditions={"keywords": ["不会出现的词"]})
        services = {x.code: x for x in s.scalars(select(Service))}
        bundle = Bundle(code=w.bundle, name="测试套餐", description="两项服务一次办")
        for i, code in enumerate(["JC-001", "RZ-001"], 1):
            bundle.items.append(BundleService(service=services[code], position=i))
        s.add_all([rule, bundle, HolidayOverride(day=date.fromisoformat(w.holiday), is_workday=False, note="测试")])
        s.commit()
        w.rule_id = rule.id
        w.user_id = accounts.create_user(s, "spare-h", "handler", "passw0rd-ok", bureau="sti",
                                         email="spare@example.com").id
    return w


@pytest.fixture(scope="session")
def access_world_template(tmp_path_factory, seeded_template):
    """(instance folder, template database or None, AccessWorld): the world, built once."""
    from tests.conftest import make_app  # the root conftest's app factory settings

    instance, uri, name = seeded_template.copy(tmp_path_factory.mktemp("access") / "instance")
    app = make_app(instance, uri)
    with pytest.MonkeyPatch.context() as patch:  # the function-scoped fast_password_hashing is not on yet
        patch.setattr(accounts, "HASH_METHOD", "pbkdf2:sha256:1000")
        world = build_access_world(app)
    app.extensions["portal.db"].engine.dispose()
    yield instance, name, world
    if name:
        databases.drop(name)


@pytest.fixture
def access_world_app(tmp_path, access_world_template):
    """(app, AccessWorld) on a private copy of the world."""
    from tests.conftest import make_app

    instance, template_db, world = access_world_template
    target = tmp_path / "instance"
    shutil.copytree(instance, target)
    uri, name = databases.copy_of(template_db) if template_db else (None, None)
    app = make_app(target, uri)
    yield app, world
    app.extensions["portal.db"].engine.dispose()
    if name:
        databases.drop(name)


def signed_in(app, username: str | None):
    """(test client, CSRF token of its session), signed in as `username` unless None.

    The session is written directly (Flask-Login's `_user_id`), as a login would leave it: the
    matrix makes hundreds of clients, and the login form itself is tested in tests/accounts."""
    client = app.test_client()
    if username is not None:
        with app.app_context():
            user_id = accounts.get_by_username(db.session, username).id
        with client.session_transaction() as session:
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
    page = client.get("/progress").get_data(as_text=True)  # a light page with a form
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None, "no CSRF token on /progress"
    return client, token.group(1)
