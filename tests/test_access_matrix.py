"""The access matrix: every route of `app.url_map` × nine personas, each answer checked against the
policy.

The routes are not listed by hand: they come from the url map, and what each persona should get
comes from a rule table keyed by the endpoint's access mark (portal/access.py `access_of`:
``public``, ``login:<roles>``, ``token:<roles>``) plus who owns the objects named in the URL
(tests/plugins/access_world.py builds them). A new route is covered as soon as it exists; a route
whose mark has no rule, or whose URL names something the world has no value for, fails here.

POSTs carry a valid CSRF token of the persona's session (API tokens for the API), so the login,
role and ownership gates are what answers, not the CSRF check. Bodies are empty: an allowed
persona may get a validation error (400/409/422), never a 5xx.
"""
from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.access import access_of
from services.core import roles
from tests.plugins.access_world import PERSONAS, AccessWorld, signed_in

BUILT_IN = {"static"}

# --------------------------------------------------------------------------- who may see which object
ACTS, SEES = "acts", "sees"
_STAFF_OF_A = {"routed_handler": ACTS, "lead": ACTS, "supervisor": ACTS, "admin": ACTS,
               "co_handler": SEES}   # co-handling open: reads the ticket, may only give its opinion
#: Object kind -> persona -> ACTS (may change it) or SEES (read-only); a persona not listed gets 404.
ACCESS: dict[str, dict[str, str]] = {
    # A's request, its ticket and the PDF submitted with it: A, the staff of the ticket's bureau
    # and county-wide staff; the co-handling bureau reads them. Never B or another bureau.
    "request": {"enterprise_a": ACTS, **_STAFF_OF_A},
    "ticket": {"enterprise_a": ACTS, **_STAFF_OF_A},
    "attachment": {"enterprise_a": SEES, **{p: SEES for p in _STAFF_OF_A}},
    # A's quality file: staff whose bureau has, had or co-handles one of its tickets, county-wide staff.
    "enterprise_file": {p: SEES for p in _STAFF_OF_A},
    # The 差评 of A's amr ticket: the amr lead and county-wide staff follow it up.
    "rating": {"lead": ACTS, "supervisor": ACTS, "admin": ACTS},
    # A spare API token of A: only A may revoke it.
    "api_token": {"enterprise_a": ACTS},
    # Catalog entries, bureaus, admin objects: the role gate decides.
    "any": dict.fromkeys(PERSONAS, ACTS),
}
#: Where the services narrow the roles of the mark for every object: 认领 is for the bureau's own
#: staff, 分派 for leads (county-wide staff assign but do not claim).
NARROWER = {"staff.claim": roles.BUREAU_STAFF, "staff.assign": roles.LEADS}


def _values(w: AccessWorld) -> dict[str, dict[str | None, tuple[str, str]]]:
    """URL argument -> {literal path segment before it (None: any) -> (value, object kind)}."""
    return {
        "number": {"requests": (w.request, "request"), "tickets": (w.ticket, "ticket")},
        "ticket": {None: (w.ticket, "ticket")},
        "service_request_id": {None: (w.request, "request")},
        "attachment_id": {None: (str(w.attachment), "attachment")},
        "uscc": {None: (w.uscc, "enterprise_file")},
        "rating_id": {None: (str(w.rating), "rating")},
        "token_id": {None: (str(w.token_id), "api_token")},
        "code": {"bundles": (w.bundle, "any"), "bureaus": ("amr", "any"), "categories": ("metrology", "any"),
                 "services": ("JL-001", "any"), "lang": ("en", "any")},
        "service_code": {None: ("JL-001", "any")},
        "rule_id": {None: (str(w.rule_id), "any")},
        "user_id": {None: (str(w.user_id), "any")},
        "day": {None: (w.holiday, "any")},
        "action": {None: ("note", "any")},
        "fmt": {None: ("json", "any")},
        "rest": {None: ("no-such-endpoint", "any")},
        "token": {None: ("not-a-real-token", "any")},
    }


#: Query strings an endpoint needs to show its page at all (not access: what a link would carry).
QUERY = {"requests.apply": {"services": "JL-001"}}


def _preceding_segment(rule: str, argument: str) -> str | None:
    """The last literal path segment before <argument>: 'requests' in /requests/<number>."""
    place = re.search(rf"<(?:[^<>:]+:)?{argument}>", rule)
    before = rule[:place.start()] if place else rule
    literals = [s for s in re.sub(r"<[^>]+>", "", before).split("/") if s.strip(".")]
    return literals[-1].strip(".") if literals else None


def fill(rule, world: AccessWorld) -> tuple[str, list[str]]:
    """(URL, kinds of the objects it names) for a url-map rule, from the world's objects."""
    table = _values(world)
    values, kinds = {}, []
    for argument in sorted(rule.arguments):
        options = table.get(argument, {})
        segment = _preceding_segment(rule.rule, argument)
        found = options.get(segment) or options.get(None)
        if found is None:
            pytest.fail(f"{rule.rule}: the access world has no value for <{argument}> after '{segment}' "
                        "(add one to tests/test_access_matrix.py _values)")
        values[argument], kind = found
        kinds.append(kind)
    return rule.build(values, append_unknown=False)[1], kinds


# --------------------------------------------------------------------------- the rule table
@dataclass(frozen=True)
class Expect:
    name: str

    def __str__(self) -> str:
        return self.name


OPEN = Expect("open: 2xx/3xx (a POST with an empty body may also get 400/409/422)")
PUBLIC = Expect("public: no login or role refusal, no 5xx")
LOGIN = Expect("302 to the login page")
UNAUTHORIZED = Expect("401")
NO_KEY = Expect("401 or 403 (GeoReport v2: 403 for a missing or invalid api_key)")
FORBIDDEN = Expect("403")
NOT_FOUND = Expect("404")
READ_ONLY = Expect("403 (or 400/422: the empty body refused first)")


def parse_mark(mark: str | None) -> tuple[str, tuple[str, ...] | None]:
    """('public'|'login'|'token', roles or None for any signed-in account)."""
    if mark == "public":
        return "public", None
    gate, _, rest = (mark or "").partition(":")
    names = tuple(rest.split(" ")[0].split(",")) if rest else ()
    if gate not in ("login", "token") or not names or not set(names) <= set(roles.ROLES) | {"any"}:
        pytest.fail(f"no access rule for the mark {mark!r} (tests/test_access_matrix.py parse_mark)")
    return gate, None if names == ("any",) else names


def expected(mark: str | None, persona: str, kinds: list[str], method: str = "GET", endpoint: str = "") -> Expect:
    gate, allowed = parse_mark(mark)
    if gate == "public":
        return PUBLIC
    if PERSONAS[persona] is None:
        return LOGIN if gate == "login" else NO_KEY if "(api_key)" in (mark or "") else UNAUTHORIZED
    role = PERSONAS[persona][0]
    if allowed is not None and role not in allowed:
        return FORBIDDEN
    levels = [ACCESS[k].get(persona) for k in kinds]
    if None in levels:
        return NOT_FOUND
    if method != "GET" and (SEES in levels or role not in NARROWER.get(endpoint, (role,))):
        return READ_ONLY
    return OPEN


def verdict(expect: Expect, method: str, status: int, location: str) -> bool:
    to_login = 300 <= status < 400 and "/account/login" in location
    if status >= 500:
        return False
    if expect is PUBLIC:
        return status not in (401, 403) and not to_login
    if expect is LOGIN:
        return to_login
    if expect is UNAUTHORIZED:
        return status == 401
    if expect is NO_KEY:
        return status in (401, 403)
    if expect is FORBIDDEN:
        return status == 403
    if expect is READ_ONLY:
        return status == 403 or status in (400, 422)
    if expect is NOT_FOUND:
        # A POST whose empty body is refused before the object is looked up tells nothing either.
        return status == 404 or (method == "POST" and status in (400, 422))
    ok = 200 <= status < 400 or (method == "POST" and status in (400, 409, 422))
    return ok and not to_login


# --------------------------------------------------------------------------- the routes
@functools.lru_cache(maxsize=1)
def _url_map_app():
    """An app for reading the url map at collection time (its database is never opened)."""
    from tests.conftest import make_app

    folder = tempfile.mkdtemp(prefix="access-matrix-")
    atexit.register(shutil.rmtree, folder, True)
    return make_app(Path(folder))


def _routes() -> list[tuple[str, str, str]]:
    """(rule, endpoint, method) of every route, from the url map."""
    cells = set()
    for rule in _url_map_app().url_map.iter_rules():
        if rule.endpoint in BUILT_IN:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            cells.add((rule.rule, rule.endpoint, method))
    return sorted(cells)


ROUTES = _routes()


def _call(app, clients, persona: str, world: AccessWorld, mark: str, method: str, url: str, query: dict):
    gate, _ = parse_mark(mark)
    if gate == "token":
        client = app.test_client()
        token = world.api_tokens.get(persona)
        if "(api_key)" in mark:
            params = dict(query, **({"api_key": token} if token else {}))
            if method == "GET":
                return client.open(url, method=method, query_string=params)
            return client.open(url, method=method, data=params)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.open(url, method=method, query_string=query, headers=headers)
    client, token = clients[persona]
    if method == "GET":
        return client.open(url, method=method, query_string=query)
    return client.open(url, method=method, query_string=query, data={"csrf_token": token})


@pytest.mark.parametrize(("rule", "endpoint", "method"), ROUTES, ids=[f"{m} {r}" for r, _, m in ROUTES])
def test_access_matrix(access_world_app, rule, endpoint, method):
    app, world = access_world_app
    url_rule = next(r for r in app.url_map.iter_rules() if r.rule == rule and r.endpoint == endpoint)
    mark = access_of(app.view_functions[endpoint])
    url, kinds = fill(url_rule, world)
    query = QUERY.get(endpoint, {})
    plan = {persona: expected(mark, persona, kinds, method, endpoint) for persona in PERSONAS}
    # Refusals first: what an allowed persona changes (a withdrawal, a deletion) cannot then
    # change what the others get.
    order = sorted(PERSONAS, key=lambda p: plan[p] is OPEN or plan[p] is PUBLIC)
    clients = {p: signed_in(app, world.usernames.get(p)) for p in order} if parse_mark(mark)[0] != "token" else {}
    wrong = []
    for persona in order:
        try:
            response = _call(app, clients, persona, world, mark, method, url, query)
            status, location = response.status_code, response.headers.get("Location", "")
        except Exception as exc:  # TESTING propagates exceptions: a real server would answer 500
            status, location = 500, f"{type(exc).__name__}: {exc}"
        if not verdict(plan[persona], method, status, location):
            wrong.append(f"  {persona}: got {status} {location}".rstrip() + f", expected {plan[persona]}")
    assert not wrong, f"{method} {url} ({endpoint}, {mark}):\n" + "\n".join(wrong)


# --------------------------------------------------------------------------- the table itself
def test_every_route_is_in_the_matrix():
    """The matrix walks the url map, so every route with a method is in it (and a rule with no
    method but HEAD/OPTIONS would be a route nobody can call)."""
    endpoints = {e for _, e, _ in ROUTES}
    app = _url_map_app()
    assert endpoints == {r.endpoint for r in app.url_map.iter_rules()} - BUILT_IN
    assert len(ROUTES) >= 90


def test_every_mark_has_a_rule():
    app = _url_map_app()
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in BUILT_IN:
            parse_mark(access_of(app.view_functions[rule.endpoint]))


def test_an_unknown_mark_or_argument_fails():
    """A route without a rule fails the matrix instead of passing unchecked."""
    with pytest.raises(pytest.fail.Exception):
        parse_mark("login:superuser")
    with pytest.raises(pytest.fail.Exception):
        parse_mark(None)

    class Rule:
        rule, arguments = "/things/<thing_id>", {"thing_id"}

    with pytest.raises(pytest.fail.Exception):
        fill(Rule(), AccessWorld())


def test_the_rule_table():
    """A few cells spelled out, so the table reads as the policy."""
    kinds = ["request"]
    assert expected("login:any", "anonymous", kinds) is LOGIN
    assert expected("token:any", "anonymous", kinds) is UNAUTHORIZED
    assert expected("token:any (api_key)", "anonymous", kinds) is NO_KEY
    assert expected("login:enterprise", "routed_handler", kinds) is FORBIDDEN
    assert expected("login:any", "enterprise_b", kinds) is NOT_FOUND
    assert expected("login:any", "other_handler", kinds) is NOT_FOUND
    assert expected("login:any", "co_handler", kinds) is OPEN
    assert expected("login:handler,lead,supervisor,admin", "co_handler", ["ticket"], "POST") is READ_ONLY
    assert expected("login:handler,lead,supervisor,admin", "supervisor", ["ticket"], "POST", "staff.claim") is READ_ONLY
    assert expected("login:handler,lead,supervisor,admin", "lead", ["ticket"], "POST", "staff.claim") is OPEN
    assert expected("token:handler,lead,supervisor,admin", "enterprise_a", ["ticket"]) is FORBIDDEN
    assert expected("login:handler,lead,supervisor,admin", "other_handler", ["enterprise_file"]) is NOT_FOUND
    assert expected("public", "anonymous", []) is PUBLIC
