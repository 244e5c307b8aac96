"""Database trouble: a lost connection or a full pool is a calm 503 with Retry-After (pages, API,
Open311 alike); any other database error is a bug — a 500, logged with its traceback."""
from __future__ import annotations

import logging
import time

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from portal.database import SERVER_POOL, SQLITE_POOL, make_engine, pool_options
from services.catalog import directory
from tests.conftest import make_app
from tests.helpers import login
from tests.open311.helpers import xml_of


def retry_after(response) -> int:
    """Seconds of Retry-After. On /api/ and /open311/ the rate limiter's headers (every answer
    carries them) may raise it to the end of its window; never below ours."""
    return int(response.headers["Retry-After"])


def duplicate_insert(session, *args, **kwargs):
    """A real IntegrityError from the database: a second row with an existing primary key."""
    session.execute(text("INSERT INTO bureau SELECT * FROM bureau LIMIT 1"))
    raise AssertionError("the insert should have failed")


@pytest.mark.parametrize("url, patched", [
    ("/", "overview"),
    ("/api/v1/services", "search_services"),
    ("/open311/v2/discovery.xml", "all_public_services"),
])
def test_unexpected_integrity_error_is_a_logged_500(client, monkeypatch, caplog, url, patched):
    monkeypatch.setattr(directory, patched, duplicate_insert)
    with caplog.at_level(logging.WARNING):
        response = client.get(url)
    assert response.status_code == 500
    if url.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "server_error"
    elif url.startswith("/open311/"):
        assert xml_of(response).findtext("error/code") == "500"
    else:
        assert "Retry-After" not in response.headers  # nothing to wait for: a bug
        assert "系统开小差了" in BeautifulSoup(response.data, "html.parser").get_text()
    logged = [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert logged and isinstance(logged[0].exc_info[1], sa_exc.IntegrityError)
    assert not any("database unavailable" in r.getMessage() for r in caplog.records)
    assert client.get("/services/JL-001").status_code == 200  # the session was cleaned up


def test_integrity_error_page_for_someone_logged_in(client, people, monkeypatch):
    login(client, people["a"])
    monkeypatch.setattr(directory, "get_service", duplicate_insert)
    response = client.get("/services/JL-001")
    assert response.status_code == 500
    page = BeautifulSoup(response.data, "html.parser")
    assert "系统开小差了" in page.get_text()
    assert "澧县兰江食品有限公司" in page.select_one(".who").get_text()  # the header still knows who it is


def test_missing_database_is_a_503_everywhere(instance_path, caplog):
    app = make_app(instance_path, "sqlite:///" + str(instance_path / "no-such-folder" / "db.sqlite3"))
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        page = client.get("/services/JL-001")
        api = client.get("/api/v1/services/JL-001")
        xml = client.get("/open311/v2/services.xml")
        json = client.get("/open311/v2/services.json?lang=en")
    assert page.headers["Retry-After"] == "30"
    for response in (page, api, xml, json):
        assert response.status_code == 503 and retry_after(response) >= 30
    assert "请稍后重试" in BeautifulSoup(page.data, "html.parser").get_text()
    assert api.get_json()["error"]["code"] == "unavailable"
    assert xml_of(xml).findtext("error/code") == "503"
    assert json.get_json()[0]["description"].startswith("The system is busy")
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in caplog.records
               if "database" in r.getMessage())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_dropped_connection_is_a_503(client, monkeypatch):
    def dropped(*args, **kwargs):
        raise sa_exc.InterfaceError("SELECT 1", {}, Exception("connection already closed"),
                                    connection_invalidated=True)

    monkeypatch.setattr(directory, "get_service", dropped)
    response = client.get("/api/v1/services/JL-001")
    assert response.status_code == 503 and retry_after(response) >= 30
    assert response.get_json()["error"]["code"] == "unavailable"


@pytest.fixture
def tiny_pool_app(seeded_copy):
    """One connection, no overflow, a fifth of a second's wait."""
    instance, uri = seeded_copy
    app = make_app(instance, uri, SQLALCHEMY_POOL_SIZE=1, SQLALCHEMY_MAX_OVERFLOW=0, SQLALCHEMY_POOL_TIMEOUT=0.2)
    yield app
    app.extensions["portal.db"].engine.dispose()


def test_exhausted_pool_is_a_503_with_retry_after(tiny_pool_app, people_on_tiny_pool):
    app = tiny_pool_app
    client = app.test_client()
    login(client, people_on_tiny_pool)
    engine = app.extensions["portal.db"].engine
    held = engine.connect()  # the only connection is busy elsewhere
    try:
        started = time.monotonic()
        page = client.get("/services/JL-001")  # logged in: the error page must not need the database
        api = client.get("/api/v1/services/JL-001")
        xml = client.get("/open311/v2/services.xml")
        assert time.monotonic() - started < 5
    finally:
        held.close()
    assert page.headers["Retry-After"] == "30"
    for response in (page, api, xml):
        assert response.status_code == 503 and retry_after(response) >= 30
    assert "请稍后重试" in BeautifulSoup(page.data, "html.parser").get_text()
    assert api.get_json()["error"]["code"] == "unavailable"
    assert xml_of(xml).findtext("error/code") == "503"
    assert client.get("/services/JL-001").status_code == 200  # a connection is free again


@pytest.fixture
def people_on_tiny_pool(tiny_pool_app):
    from tests.helpers import make_enterprise

    return make_enterprise(tiny_pool_app)


# --------------------------------------------------------------------------- pool settings
def test_pool_defaults_per_kind_of_database(tmp_path):
    assert pool_options("sqlite:///" + str(tmp_path / "x.sqlite3")) == SQLITE_POOL
    assert pool_options("postgresql+psycopg://portal@db/portal") == SERVER_POOL
    assert pool_options("sqlite://") == pool_options("sqlite:///:memory:") == {}
    assert pool_options("sqlite:///x.db", {"SQLALCHEMY_POOL_SIZE": 3, "SQLALCHEMY_MAX_OVERFLOW": None}) == {
        **SQLITE_POOL, "pool_size": 3}
    engine = make_engine("sqlite:///" + str(tmp_path / "x.sqlite3"))
    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool.timeout()) == (
        SQLITE_POOL["pool_size"], SQLITE_POOL["max_overflow"], SQLITE_POOL["pool_timeout"])
    make_engine("sqlite://")  # an in-memory database takes no pool arguments


def test_app_config_sizes_the_pool(seeded_copy):
    instance, uri = seeded_copy
    app = make_app(instance, uri, SQLALCHEMY_POOL_SIZE=7, SQLALCHEMY_MAX_OVERFLOW=3, SQLALCHEMY_POOL_TIMEOUT=9)
    pool = app.extensions["portal.db"].engine.pool
    assert (pool.size(), pool._max_overflow, pool.timeout()) == (7, 3, 9)
