"""Where the tests keep their data: SQLite files (default) or PostgreSQL databases.

With PORTAL_TEST_DATABASE_URL set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test), each
test gets its own PostgreSQL database, copied in a few milliseconds from a seeded template
database (CREATE DATABASE … TEMPLATE …); the URL's own database is only used to issue those
commands. Without it, each test gets a copy of a seeded SQLite file.
"""
from __future__ import annotations

import itertools
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "").strip()
_counter = itertools.count()
_run = uuid.uuid4().hex[:8]


def using_postgres() -> bool:
    return bool(URL)


def _admin_engine():
    return create_engine(URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _url_for(name: str) -> str:
    return make_url(URL).set(database=name).render_as_string(hide_password=False)


def new_template(label: str) -> tuple[str, str]:
    """(uri, name) of a fresh, empty database to seed and later copy."""
    if not using_postgres():
        raise RuntimeError("only for PostgreSQL")
    name = f"portal_tpl_{label}_{_run}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return _url_for(name), name


def copy_of(template: str) -> tuple[str, str]:
    name = f"portal_t_{_run}_{next(_counter)}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    engine.dispose()
    return _url_for(name), name


def drop(name: str) -> None:
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def sqlite_uri(instance: Path) -> str:
    return f"sqlite:///{instance / 'portal.sqlite3'}"


def copy_instance(source: Path, target: Path) -> None:
    shutil.copytree(source, target)
