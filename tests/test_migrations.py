"""The Alembic migrations, on SQLite and (with PORTAL_TEST_DATABASE_URL) on PostgreSQL: they build
exactly the schema the models describe, and go down to nothing and up again."""
from __future__ import annotations

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from services.core import schema
from services.models import Base
from tests import databases


@pytest.fixture
def empty_engine(tmp_path):
    if databases.using_postgres():
        uri, name = databases.new_template("migrations")
    else:
        uri, name = f"sqlite:///{tmp_path / 'empty.sqlite3'}", None
    engine = create_engine(uri)
    yield engine
    engine.dispose()
    if name:
        databases.drop(name)


def _differences(engine) -> list:
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "skipping expression-based index" notes of some dialects
        context = MigrationContext.configure(conn, opts={"include_object": schema.include_object})
        return compare_metadata(context, Base.metadata)


def test_migrations_build_the_schema_of_the_models(empty_engine):
    schema.upgrade(empty_engine)
    assert schema.is_current(empty_engine)
    assert _differences(empty_engine) == []
    sql = ("SELECT indexname FROM pg_indexes WHERE tablename = 'ticket'" if databases.using_postgres()
           else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ticket'")
    with empty_engine.connect() as conn:  # SQLAlchemy does not reflect expression indexes on SQLite
        indexes = set(conn.scalars(text(sql)))
    assert schema.EXPRESSION_INDEXES <= indexes


def test_down_to_nothing_and_up_again(empty_engine):
    schema.upgrade(empty_engine)
    schema.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(empty_engine)
    assert schema.is_current(empty_engine)
    assert _differences(empty_engine) == []
