"""Issue 12 item 3 (first half): rate limits keyed on the real client behind a configured number
of reverse proxies, and on the connecting address when none is configured."""
from __future__ import annotations

import pytest

from portal.extensions import limiter
from portal.security import LIMIT_DEFAULTS, InsecureConfiguration
from tests.conftest import make_app
from tests.helpers import csrf_from

LOOKUPS = int(LIMIT_DEFAULTS["RATELIMIT_LOOKUP"].split()[0])
LOGINS = int(LIMIT_DEFAULTS["RATELIMIT_LOGIN"].split()[0])


@pytest.fixture
def limited_app(seeded_copy):
    """An app with the real rate limits (the test config raises them) and a given PROXY_COUNT."""
    apps = []

    def factory(**extra):
        app = make_app(*seeded_copy, **LIMIT_DEFAULTS, **extra)
        limiter.reset()  # the limiter's memory storage outlives earlier tests' apps
        apps.append(app)
        return app

    yield factory
    limiter.reset()
    for app in apps:
        app.extensions["portal.db"].engine.dispose()


def lookups(app, forwarded_for, count: int = LOOKUPS + 5) -> list[int]:
    """Progress look-ups (wrong number: 404) from `forwarded_for(n)` as X-Forwarded-For."""
    client = app.test_client()
    token = csrf_from(client.get("/progress").data)
    return [client.post("/progress", data={"number": "LX-NONE", "query_code": "000000", "csrf_token": token},
                        headers={"X-Forwarded-For": forwarded_for(n)}).status_code for n in range(count)]


def logins(app, forwarded_for, count: int = LOGINS + 2) -> list[int]:
    client = app.test_client()
    token = csrf_from(client.get("/account/login").data)
    return [client.post("/account/login", data={"login": "nobody", "password": "x", "csrf_token": token},
                        headers={"X-Forwarded-For": forwarded_for(n)}).status_code for n in range(count)]


def test_without_trusted_proxies_forwarded_for_is_ignored(limited_app):
    app = limited_app()  # PROXY_COUNT defaults to 0
    codes = lookups(app, lambda n: f"198.51.100.{n + 1}")
    assert codes[:LOOKUPS] == [404] * LOOKUPS
    assert codes[LOOKUPS:] == [429] * (len(codes) - LOOKUPS)


def test_behind_one_proxy_each_client_has_its_own_limit(limited_app):
    app = limited_app(PROXY_COUNT=1)
    assert lookups(app, lambda n: f"198.51.100.{n + 1}") == [404] * (LOOKUPS + 5)
    assert 429 not in logins(app, lambda n: f"203.0.113.{n + 1}")


def test_behind_one_proxy_only_the_address_it_saw_counts(limited_app):
    """nginx appends the address it saw to whatever the client sent: a visitor who makes up
    earlier entries is still one client."""
    app = limited_app(PROXY_COUNT=1)
    codes = lookups(app, lambda n: f"10.9.{n}.1, 192.0.2.7")
    assert codes[:LOOKUPS] == [404] * LOOKUPS and codes[-1] == 429
    codes = logins(app, lambda n: f"10.9.{n}.1, 192.0.2.8")
    assert codes[-1] == 429 and 401 in codes


def test_the_proxy_count_is_checked(seeded_copy):
    for value in ("one", -1, "1.5", True):
        with pytest.raises(InsecureConfiguration) as exc:
            make_app(*seeded_copy, PROXY_COUNT=value)
        assert "PORTAL_PROXY_COUNT" in str(exc.value)
    app = make_app(*seeded_copy, PROXY_COUNT="2")
    assert app.config["PROXY_COUNT"] == 2
    app.extensions["portal.db"].engine.dispose()


def test_forwarded_proto_is_believed_but_never_forwarded_host(limited_app):
    """The API's `url` fields are built from the request: scheme from the trusted proxy, host from
    the Host header nginx passes, never from X-Forwarded-Host."""
    headers = {"X-Forwarded-For": "192.0.2.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
               "Host": "qi.lixian.example"}
    trusted = limited_app(PROXY_COUNT=1).test_client().get("/api/v1/services/JL-001", headers=headers)
    assert trusted.get_json()["url"] == "https://qi.lixian.example/services/JL-001"
    untrusted = limited_app().test_client().get("/api/v1/services/JL-001", headers=headers)
    assert untrusted.get_json()["url"] == "http://qi.lixian.example/services/JL-001"
