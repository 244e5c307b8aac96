"""Brings a database to the newest schema through Alembic."""
from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SAWarning

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


#: Expression indexes of the models (the staff queue's), created by hand in migration 0006.
EXPRESSION_INDEXES = frozenset({"ix_ticket_bureau_deadline", "ix_ticket_deadline",
                                "ix_ticket_open_bureau_deadline", "ix_ticket_open_deadline"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate leaves out EXPRESSION_INDEXES: databases spell their expressions back
    differently (``COALESCE(…, '9999-12-31'::date)``), which would look like a change every time.
    tests/test_migrations.py checks they exist."""
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as conn, warnings.catch_warnings():
        # Batch migrations on SQLite reflect the ticket table, whose expression indexes (0006)
        # SQLAlchemy cannot reflect and says so; the migrations never touch those indexes there.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index",
                                SAWarning)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
