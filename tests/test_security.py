"""Security defaults: headers and CSP, production settings, rate limits, database outages."""
from __future__ import annotations

import re
import secrets
import shutil

import pytest
from bs4 import BeautifulSoup

from portal import create_app
from portal.security import InsecureConfiguration
from tests import databases
from tests.conftest import make_app
from tests.helpers import PASSWORD, csrf, make_enterprise

PAGES = ["/", "/search?q=地磅", "/services/JL-001", "/categories/metrology", "/bureaus", "/bundles", "/progress",
         "/account/login", "/account/register", "/no-such-page"]


@pytest.mark.parametrize("url", PAGES)
def test_headers_and_no_inline_script_or_style(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    soup = BeautifulSoup(response.data, "html.parser")
    assert all(tag.get("src") for tag in soup.find_all("script")), "inline <script> would be blocked by the CSP"
    assert not soup.find_all(style=True), "style attributes would be blocked by the CSP"
    assert not soup.find_all("style")
    assert not any(attr.startswith("on") for tag in soup.find_all(True) for attr in tag.attrs)
    assert not soup.find_all(href=re.compile(r"^\s*javascript:", re.I))


def test_session_cookie_is_httponly_and_samesite(app, client):
    make_enterprise(app)
    response = client.post("/account/login", data={"login": "91350100M000100Y43", "password": PASSWORD,
                                                   "csrf_token": csrf(client)})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("key", [None, "", "dev-only-change-me", "change-me", "short-key"])
def test_production_refuses_a_weak_secret_key(tmp_path, key):
    config = {"TESTING": True, "PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(InsecureConfiguration) as exc:
        create_app(config)
    assert "PORTAL_SECRET_KEY" in str(exc.value)


def test_production_cookies_are_secure(seeded_copy):
    # A random key and an https public address: production refuses "x" * 40 and a missing address.
    app = make_app(*seeded_copy, PRODUCTION=True, SECRET_KEY=secrets.token_hex(32),
                   PUBLIC_BASE_URL="https://qi.lixian.example")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_is_rate_limited(seeded_copy):
    from portal.security import LIMIT_DEFAULTS

    app = make_app(*seeded_copy, **LIMIT_DEFAULTS)
    client = app.test_client()
    codes = []
    for _ in range(12):
        response = client.post("/account/login", data={"login": "nobody", "password": "x",
                                                       "csrf_token": csrf(client)})
        codes.append(response.status_code)
    assert codes[-1] == 429 and 401 in codes
    assert "操作太频繁" in BeautifulSoup(response.data, "html.parser").get_text()


def test_api_is_rate_limited_per_caller(seeded_copy):
    from portal.security import LIMIT_DEFAULTS

    app = make_app(*seeded_copy, **LIMIT_DEFAULTS)
    limit = int(LIMIT_DEFAULTS["RATELIMIT_API"].split()[0])
    client = app.test_client()
    statuses = [client.get("/api/v1/services/JL-001").status_code for _ in range(limit + 1)]
    assert statuses[:limit].count(200) == limit and statuses[-1] == 429
    assert client.get("/api/v1/services/JL-001").get_json()["error"]["code"] == "too_many_requests"


@pytest.mark.skipif(databases.using_postgres(), reason="takes the SQLite file away; see the PostgreSQL variant")
def test_database_outage_gives_a_try_again_page_and_recovers(tmp_path, instance_path):
    moved = tmp_path / "away"
    app = make_app(instance_path)
    client = app.test_client()
    assert client.get("/services/JL-001").status_code == 200
    app.extensions["portal.db"].engine.dispose()
    shutil.move(str(instance_path), str(moved))  # the database file is gone for a moment
    response = client.get("/services/JL-001")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "请稍后重试" in BeautifulSoup(response.data, "html.parser").get_text()
    assert "Traceback" not in response.get_data(as_text=True)
    api = client.get("/api/v1/services/JL-001")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    shutil.move(str(moved), str(instance_path))  # back again: the next request works by itself
    assert client.get("/services/JL-001").status_code == 200


def test_unreachable_database_server_gives_a_try_again_page(instance_path):
    app = make_app(instance_path, "postgresql+psycopg://portal@127.0.0.1:1/nowhere")
    response = app.test_client().get("/services/JL-001")
    assert response.status_code == 503
    assert "请稍后重试" in BeautifulSoup(response.data, "html.parser").get_text()


def test_workers_share_the_login_limit_through_redis(seeded_copy):
    """Two app instances stand for two gunicorn workers (or hosts): with the limits kept in the
    real Redis server, the tenth failed login counts the same wherever it lands."""
    import uuid

    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    from portal.security import LIMIT_DEFAULTS

    config = dict(LIMIT_DEFAULTS, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
                  RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}")
    workers = [make_app(*seeded_copy, **config).test_client() for _ in range(2)]
    limit = int(LIMIT_DEFAULTS["RATELIMIT_LOGIN"].split()[0])
    codes = []
    for n in range(limit + 1):
        client = workers[n % 2]
        codes.append(client.post("/account/login", data={"login": "nobody", "password": "x",
                                                         "csrf_token": csrf(client)}).status_code)
    assert codes[:limit].count(429) == 0 and codes[-1] == 429


@pytest.mark.skipif(not databases.using_postgres(), reason="a PostgreSQL server outage; see the SQLite variant")
def test_postgres_going_away_gives_a_try_again_page_and_recovers(seeded_copy):
    """The server closes every connection and refuses new ones for a moment (as in a restart or
    failover); pages and the API answer 503 meanwhile, and the app recovers by itself after."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    instance, uri = seeded_copy
    name = make_url(uri).database
    app = make_app(instance, uri)
    client = app.test_client()
    assert client.get("/services/JL-001").status_code == 200  # a pooled connection is open now
    admin = databases._admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
    try:
        response = client.get("/services/JL-001")
        assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        assert "请稍后重试" in BeautifulSoup(response.data, "html.parser").get_text()
        api = client.get("/api/v1/services/JL-001")
        assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert client.get("/services/JL-001").status_code == 200
    app.extensions["portal.db"].engine.dispose()
