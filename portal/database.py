"""Binds the SQLAlchemy engine and a scoped session to a Flask app.

Services receive a plain `sqlalchemy.orm.Session`; only this module knows about Flask.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker


@dataclass
class _State:
    engine: Engine
    sessions: scoped_session[Session]


def make_engine(uri: str, echo: bool = False) -> Engine:
    kwargs: dict = {"echo": echo, "future": True}
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
        engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ECHO", False))
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

    def new_session(self) -> Session:
        """A session outside the request scope (index rebuilds, background work)."""
        return Session(bind=self.engine, expire_on_commit=False)
