"""Helpers for the access-policy tests: a clock that moves in steps (services.core.clock), and
submitting and acting through the services. The scenes themselves are fixtures (conftest.py)."""
from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.core import clock
from services.models import Attachment, Ticket
from services.requests import submission as reqsvc
from services.requests import uploads
from services.tickets import actions as tickets

#: Monday 2 November 2026, 09:00 Beijing time: a working day.
START = datetime(2026, 11, 2, 9, 0, tzinfo=clock.BEIJING)
PDF = b"%PDF-1.4 policy test"
JL002 = {"JL-002": {"instrument": "电子秤"}}


@contextmanager
def at(minutes: int):
    """The clock stands `minutes` after START inside the block."""
    with clock.frozen(START + timedelta(minutes=minutes)):
        yield


@dataclass
class Scene:
    """Usernames by role and what the scene made."""

    people: dict[str, str]
    numbers: dict[str, str] = field(default_factory=dict)    # request and ticket numbers by name
    files: dict[str, int] = field(default_factory=dict)      # attachment ids by name
    texts: dict[str, str] = field(default_factory=dict)      # messages written, by name


def submit(app, username: str, services: list[str], attributes: dict | None = None,
           files: dict[str, bytes] | None = None) -> tuple[str, list[str], list[int]]:
    """(request number, ticket numbers in bureau order of the services, attachment ids)."""
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        incoming = [uploads.Incoming(name, io.BytesIO(data)) for name, data in (files or {}).items()]
        sub = reqsvc.Submission(services=services, attributes=attributes or {}, description="申请办理",
                                files=incoming)
        req, _ = reqsvc.submit(db.session, user, sub, app.config["UPLOAD_DIR"])
        return req.number, [t.number for t in req.tickets], [a.id for a in req.attachments]


def act(app, username: str, number: str, action: str, message: str = "", to_bureau: str | None = None,
        files: dict[str, bytes] | None = None) -> list[int]:
    """Run one ticket action; returns the ids of the files it attached."""
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        data = tickets.ActionInput(action, message, to_bureau,
                                   files=tuple(uploads.Incoming(n, io.BytesIO(b)) for n, b in (files or {}).items()))
        ticket = tickets.perform(db.session, user, number, data, upload_dir=app.config["UPLOAD_DIR"])
        event = max(ticket.request.events, key=lambda e: e.id)
        return [a.id for a in db.session.scalars(select(Attachment).where(Attachment.event_id == event.id))]


def routing_reason(app, number: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Ticket.routing_reason).where(Ticket.number == number))
