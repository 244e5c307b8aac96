"""Binds the SQLAlchemy engine and a scoped session to a Flask app, and says which database
errors mean "the database is away for now" (portal/errors.py answers those with 503).

Services receive a plain `sqlalchemy.orm.Session`; only this module knows about Flask.

Connection pool: every engine but an in-memory SQLite one uses SQLAlchemy's QueuePool, whose
size, overflow and wait come from the config keys SQLALCHEMY_POOL_SIZE, SQLALCHEMY_MAX_OVERFLOW
and SQLALCHEMY_POOL_TIMEOUT; left at None they take the defaults below for the kind of database.
A web request holds its connection from its first query until it commits or ends, so the pool
must cover the requests one process serves at once, and a request that finds it full waits
(fairly, first come first served) up to the timeout before it gets a 503.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, scoped_session, sessionmaker

#: SQLite (the one-process demo, `flask run`: one thread per request, however many arrive): a
#: connection is only an open file, so the pool keeps ten for reuse and opens more whenever more
#: requests run at once (no overflow limit). A capped pool would turn a burst into 503s, or stall
#: it: a request that has finished its work still holds its connection while the inline search
#: sync (portal/search.py) takes a second one. Writers then wait for SQLite's lock (its busy
#: timeout, 30 s), not for the pool.
SQLITE_POOL = {"pool_size": 10, "max_overflow": -1, "pool_timeout": 30.0}
#: PostgreSQL (gunicorn workers, each serving one request at a time): SQLAlchemy's own defaults,
#: 4 workers x 15 stay well below the server's usual max_connections of 100.
SERVER_POOL = {"pool_size": 5, "max_overflow": 10, "pool_timeout": 30.0}
POOL_KEYS = {"pool_size": "SQLALCHEMY_POOL_SIZE", "max_overflow": "SQLALCHEMY_MAX_OVERFLOW",
             "pool_timeout": "SQLALCHEMY_POOL_TIMEOUT"}


def _in_memory(uri: str) -> bool:
    return uri.startswith("sqlite") and (uri.rstrip("/").endswith(":") or ":memory:" in uri
                                         or "mode=memory" in uri)


def pool_options(uri: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """QueuePool settings for `uri`: the config keys (POOL_KEYS) where set, else the defaults for
    SQLite or a database server. An in-memory SQLite database has no such pool: {}."""
    if _in_memory(uri):
        return {}
    options = dict(SQLITE_POOL if uri.startswith("sqlite") else SERVER_POOL)
    for option, key in POOL_KEYS.items():
        value = (config or {}).get(key)
        if value is not None:
            options[option] = value
    return options


def unavailable(exc: BaseException) -> bool:
    """True when the database is away for now — a lost or refused connection (OperationalError,
    or any DBAPI error SQLAlchemy recognised as a disconnect) or an exhausted pool
    (sqlalchemy.exc.TimeoutError): trying again shortly may work (503 with Retry-After).
    False for everything else (IntegrityError, DataError, ProgrammingError, …): a bug or an
    unhandled race, which must be a 500 with its traceback in the log."""
    if isinstance(exc, (sa_exc.TimeoutError, sa_exc.OperationalError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


@dataclass
class _State:
    engine: Engine
    sessions: scoped_session[Session]


def make_engine(uri: str, echo: bool = False, config: Mapping[str, Any] | None = None) -> Engine:
    """The engine for `uri`, its pool sized by `config` (see pool_options)."""
    kwargs: dict = {"echo": echo, "future": True, **pool_options(uri, config)}
    if uri.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(uri, **kwargs)
    if uri.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in uri:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
    return engine


class Database:
    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ECHO", False),
                             app.config)
        sessions = scoped_session(sessionmaker(bind=engine, expire_on_commit=False))
        app.extensions["portal.db"] = _State(engine, sessions)

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            sessions.remove()

    @staticmethod
    def _state() -> _State:
        return current_app.extensions["portal.db"]

    @property
    def session(self) -> Session:
        return self._state().sessions()

    @property
    def engine(self) -> Engine:
        return self._state().engine

    def discard_session(self) -> None:
        """After an error: roll back whatever the request's session had begun, so that the error
        page can still read (the logged-in user, say) and nothing half-done is kept; when even
        the rollback fails (the connection is gone), let the session go altogether."""
        sessions = self._state().sessions
        try:
            sessions().rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone entirely
            sessions.remove()

    def new_session(self) -> Session:
        """A session outside the request scope (index rebuilds, background work)."""
        return Session(bind=self.engine, expire_on_commit=False)
