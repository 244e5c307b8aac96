"""Every endpoint declares who may call it (see portal/access.py)."""
from __future__ import annotations

from portal.access import access_of
from services.core import roles
from tests.helpers import csrf

# Endpoints Flask itself provides.
BUILT_IN = {"static"}


def test_every_endpoint_carries_an_access_mark(app):
    unmarked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILT_IN:
            continue
        view = app.view_functions[rule.endpoint]
        if access_of(view) is None:
            unmarked.append(f"{rule.rule} -> {rule.endpoint}")
    assert not unmarked, "routes without an access mark:\n" + "\n".join(unmarked)


def test_public_endpoints_answer_without_login(client):
    for url in ("/", "/search", "/bureaus", "/categories/metrology", "/services/JL-001", "/api/v1/services",
                "/bundles", "/progress", "/account/login", "/account/register"):
        assert client.get(url).status_code == 200, url


def _sample_url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = type(rule._converters.get(arg)).__name__.lower()
        values[arg] = "1" if "integer" in converter else ("json" if arg in ("fmt", "format", "ext") else "x")
    return rule.build(values, append_unknown=False)[1]


def _guarded(app):
    """(rule, access mark) of every endpoint behind a login or a token."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILT_IN:
            continue
        mark = access_of(app.view_functions[rule.endpoint])
        if mark != "public":
            yield rule, mark


def test_every_mark_names_known_roles(app):
    """`login:` and `token:` marks list real roles (or `any`): a typo would lock everyone out."""
    known = set(roles.ROLES) | {"any"}
    for rule, mark in _guarded(app):
        gate, _, names = mark.partition(":")
        assert gate in ("login", "token"), (rule.rule, mark)
        assert set(names.split(" ")[0].split(",")) <= known, (rule.rule, mark)


def test_every_non_public_page_refuses_anonymous_users(app, client):
    """Walk the url map: a page behind a login sends anonymous users to the login page; an API
    endpoint behind a token answers 401. POSTs carry a valid CSRF token, so the login gate is
    what answers (tests/test_access_matrix.py does this for every role)."""
    token = csrf(client)
    checked = 0
    for rule, mark in _guarded(app):
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            if mark.startswith("login:"):
                assert response.status_code == 302, (method, url, response.status_code)
                assert "/account/login" in response.headers["Location"], url
            else:  # GeoReport v2 answers a missing or invalid api_key with 403, the JSON API with 401
                refusals = (401, 403) if "(api_key)" in mark else (401,)
                assert response.status_code in refusals, (method, url, response.status_code)
            checked += 1
    assert checked >= 10
