"""Shared fixtures: an app on a temporary instance folder with a seeded catalog.

Seeding (migrations, catalog import, index build) happens once per test session; each test
gets its own copy of the instance folder, so tests never see each other's writes.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal import create_app

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CATALOG = FIXTURES / "catalog.json"


def make_app(instance: Path, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'portal.sqlite3'}",
        "INDEX_DIR": str(instance / "index"),
        "UPLOAD_DIR": str(instance / "uploads"),
        "WTF_CSRF_ENABLED": True,
    }
    config.update(extra)
    app = create_app(config)
    return app


def seed(app, catalog_path: Path = FIXTURE_CATALOG) -> None:
    from portal.extensions import db, search
    from services import catalog, schema
    from services.catalog_io import read_catalog_file

    with app.app_context():
        schema.upgrade(db.engine)
        data, labels = read_catalog_file(catalog_path)
        catalog.import_catalog(db.session, None, data, labels=labels)
        catalog.rebuild_index(db.session, search.index)
        db.engine.dispose()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """scrypt costs ~0.1 s a hash; tests create many accounts. tests/accounts checks the real method."""
    from services import accounts

    monkeypatch.setattr(accounts, "HASH_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """An instance folder with the fixture catalog loaded and indexed."""
    instance = tmp_path_factory.mktemp("seeded")
    seed(make_app(instance))
    return instance


@pytest.fixture(scope="session")
def bundled_template(tmp_path_factory) -> Path:
    """An instance folder with the bundled county catalog loaded and indexed."""
    instance = tmp_path_factory.mktemp("bundled")
    from services.catalog import BUNDLED_CATALOG

    seed(make_app(instance), BUNDLED_CATALOG)
    return instance


@pytest.fixture
def instance_path(tmp_path, seeded_template) -> Path:
    target = tmp_path / "instance"
    shutil.copytree(seeded_template, target)
    return target


@pytest.fixture
def app(instance_path):
    app = make_app(instance_path)
    yield app
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()


@pytest.fixture
def empty_app(tmp_path):
    """An app whose database has the schema but no catalog yet."""
    from portal.extensions import db
    from services import schema

    instance = tmp_path / "empty"
    instance.mkdir()
    app = make_app(instance)
    with app.app_context():
        schema.upgrade(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
