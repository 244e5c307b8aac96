"""Every endpoint declares who may call it (see portal/access.py)."""
from __future__ import annotations

from portal.access import access_of

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
    for url in ("/", "/search", "/bureaus", "/categories/metrology", "/services/JL-001", "/api/v1/services"):
        assert client.get(url).status_code == 200, url
