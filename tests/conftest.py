"""Shared fixtures: an app on a temporary instance folder with a seeded catalog.

Seeding (migrations, catalog import, index build) happens once per test session; each test
gets its own copy of the instance folder and of the database, so tests never see each other's
writes. The database is SQLite, or PostgreSQL when PORTAL_TEST_DATABASE_URL is set
(see tests/databases.py).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal import create_app
from portal.security import LIMIT_DEFAULTS
from tests import databases

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CATALOG = FIXTURES / "catalog.json"

# Fixtures several folders share live in plugin modules, never imported by the tests that use them.
pytest_plugins = ["tests.plugins.people", "tests.plugins.access_world"]


def make_app(instance: Path, database_uri: str | None = None, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        # Links in mails (portal/links.py) point where the test client sends its requests.
        "PUBLIC_BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": database_uri or databases.sqlite_uri(instance),
        "INDEX_DIR": str(instance / "index"),
        "TICKET_INDEX_DIR": str(instance / "ticket-index"),
        "SEARCH_SYNC_STATE": str(instance / "search-sync.json"),
        "UPLOAD_DIR": str(instance / "uploads"),
        "WTF_CSRF_ENABLED": True,
        # Every test client comes from 127.0.0.1 and the limiter is process-wide: keep the limits
        # out of the way; tests/test_security.py checks them with the production values.
        **{key: "10000 per minute" for key in LIMIT_DEFAULTS},
        # Figures are kept in the shared statistics cache only when they took long enough to
        # compute; a slow moment on a loaded machine must not decide what a test sees, so tests
        # keep none unless they ask (tests/dashboard/test_cache.py sets 0).
        "STATS_CACHE_MIN_COMPUTE_SECONDS": float("inf"),
    }
    config.update(extra)
    app = create_app(config)
    return app


def seed(app, catalog_path: Path = FIXTURE_CATALOG) -> None:
    from portal.extensions import db, search
    from services.catalog import indexing
    from services.catalog import records as catalog
    from services.catalog.formats import read_catalog_file
    from services.core import schema

    with app.app_context():
        schema.upgrade(db.engine)
        data, labels = read_catalog_file(catalog_path)
        catalog.import_catalog(db.session, None, data, labels=labels)
        indexing.rebuild_index(db.session, search.index)
        search.rebuild_tickets(db.session)
    app.extensions["portal.db"].engine.dispose()  # no connection may stay open on a template database


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """scrypt costs ~0.1 s a hash; tests create many accounts. tests/accounts checks the real method."""
    from services.accounts import users as accounts

    monkeypatch.setattr(accounts, "HASH_METHOD", "pbkdf2:sha256:1000")


class Seeded:
    """A seeded instance folder (index, uploads) and, on PostgreSQL, its template database."""

    def __init__(self, instance: Path, template_db: str | None = None):
        self.instance = instance
        self.template_db = template_db

    def __fspath__(self) -> str:  # usable wherever a path to the instance folder is expected
        return str(self.instance)

    def copy(self, target: Path) -> tuple[Path, str | None, str | None]:
        """A private copy: (instance folder, database URI, database name to drop afterwards)."""
        shutil.copytree(self.instance, target)
        if self.template_db is None:
            return target, None, None
        uri, name = databases.copy_of(self.template_db)
        return target, uri, name


def _seeded(tmp_path_factory, label: str, catalog_path: Path) -> Seeded:
    instance = tmp_path_factory.mktemp(label)
    if databases.using_postgres():
        uri, name = databases.new_template(label)
        seed(make_app(instance, uri), catalog_path)
        return Seeded(instance, name)
    seed(make_app(instance), catalog_path)
    return Seeded(instance)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Seeded:
    """The fixture catalog loaded and indexed."""
    seeded = _seeded(tmp_path_factory, "seeded", FIXTURE_CATALOG)
    yield seeded
    if seeded.template_db:
        databases.drop(seeded.template_db)


@pytest.fixture(scope="session")
def bundled_template(tmp_path_factory) -> Seeded:
    """The bundled county catalog loaded and indexed."""
    from services.catalog.records import BUNDLED_CATALOG

    seeded = _seeded(tmp_path_factory, "bundled", BUNDLED_CATALOG)
    yield seeded
    if seeded.template_db:
        databases.drop(seeded.template_db)


@pytest.fixture
def seeded_copy(tmp_path, seeded_template):
    instance, uri, name = seeded_template.copy(tmp_path / "instance")
    yield instance, uri
    if name:
        databases.drop(name)


@pytest.fixture
def instance_path(seeded_copy) -> Path:
    return seeded_copy[0]


@pytest.fixture
def app(seeded_copy):
    instance, uri = seeded_copy
    app = make_app(instance, uri)
    yield app
    app.extensions["portal.db"].engine.dispose()


@pytest.fixture
def fresh_database(tmp_path):
    """(instance folder, database URI) with nothing in the database yet."""
    instance = tmp_path / "fresh"
    instance.mkdir()
    if not databases.using_postgres():
        yield instance, None
        return
    uri, name = databases.new_template(f"fresh{abs(hash(str(tmp_path))) % 10**6}")
    yield instance, uri
    databases.drop(name)


@pytest.fixture
def empty_app(fresh_database):
    """An app whose database has the schema but no catalog yet."""
    from portal.extensions import db
    from services.core import schema

    instance, uri = fresh_database
    app = make_app(instance, uri)
    with app.app_context():
        schema.upgrade(db.engine)
    yield app
    app.extensions["portal.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
