"""Keeping the search indexes in step with the database through the search outbox.

Every change that affects search adds `SearchOutbox` rows in its own transaction (`enqueue`).
An indexer applies the rows after its position (`apply_pending`) and records the new position
in a small state file next to the indexes, so every host keeps its own index files and nothing
is lost if the indexer is killed: it simply starts again from its last recorded position.
Rows are re-read for a short grace period after their position, because a transaction that
took a lower id can commit after a higher one; applying a row twice does no harm, since each
row only says "look this key up in the database again".
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterable, Protocol

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from services.catalog import public_services_query, service_doc
from services.models import Request, RequestItem, SearchOutbox, Service, Ticket, utcnow

GRACE = timedelta(seconds=60)
KEEP = timedelta(days=7)
BATCH = 500


class Index(Protocol):
    def upsert(self, docs: Iterable[dict]) -> None: ...
    def delete(self, keys: Iterable[str]) -> None: ...


def enqueue(session: Session, kind: str, keys: Iterable[str]) -> None:
    """Record that these services or tickets changed (in the caller's transaction)."""
    added = False
    for key in sorted(set(keys)):
        session.add(SearchOutbox(kind=kind, key=key))
        added = True
    if added:
        session.info["search_dirty"] = True


# --------------------------------------------------------------------------- documents
def ticket_doc(ticket: Ticket) -> dict[str, Any]:
    request = ticket.request
    text = [request.description]
    for item in ticket.items:
        text += [str(v) if not isinstance(v, list) else " ".join(map(str, v)) for v in item.attributes.values()]
    text += [e.message for e in request.events if e.ticket_id == ticket.id and e.public and e.message]
    return {"number": ticket.number, "request_number": request.number, "status": ticket.status,
            "bureau_ids": [ticket.bureau_id, *[c.bureau_id for c in ticket.co_handlers]],
            "enterprise": request.enterprise.name, "uscc": request.enterprise.uscc,
            "services": [i.service.name for i in ticket.items], "text": "\n".join(t for t in text if t)}


def _ticket_query():
    return select(Ticket).options(
        selectinload(Ticket.request).selectinload(Request.enterprise),
        selectinload(Ticket.request).selectinload(Request.events),
        selectinload(Ticket.items).selectinload(RequestItem.service),
        selectinload(Ticket.co_handlers))


def iter_ticket_docs(session: Session, batch: int = 1000) -> Iterable[dict[str, Any]]:
    last = 0
    while True:
        rows = session.scalars(_ticket_query().where(Ticket.id > last).order_by(Ticket.id).limit(batch)).all()
        if not rows:
            return
        for t in rows:
            yield ticket_doc(t)
        last = rows[-1].id
        session.expunge_all()


def count_tickets(session: Session) -> int:
    return session.scalar(select(func.count(Ticket.id))) or 0


# --------------------------------------------------------------------------- position
@dataclass
class Position:
    path: Path

    def read(self) -> int:
        try:
            return int(json.loads(self.path.read_text(encoding="utf-8")).get("last_id", 0))
        except (OSError, ValueError, AttributeError):
            return 0

    def write(self, last_id: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".sync-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"last_id": last_id}, fh)
        os.replace(tmp, self.path)  # atomic: a killed indexer leaves the old or the new position


def current_max_id(session: Session) -> int:
    return session.scalar(select(func.max(SearchOutbox.id))) or 0


# --------------------------------------------------------------------------- applying
@dataclass
class SyncReport:
    services: int = 0
    tickets: int = 0
    position: int = 0


def apply_pending(session: Session, catalog_index: Index, ticket_index: Index | None, position: Position,
                  limit: int = BATCH, seen: set[int] | None = None) -> SyncReport:
    """Apply outbox rows after this host's position, and rows of the grace period not yet seen
    by this process (`seen` remembers them between calls of a long-running indexer)."""
    start = position.read()
    rows = session.execute(
        select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.key)
        .where(or_(SearchOutbox.id > start, SearchOutbox.created_at > utcnow() - GRACE))
        .order_by(SearchOutbox.id).limit(limit)).all()
    if seen is not None:
        rows = [r for r in rows if r.id > start or r.id not in seen]
        seen.update(r.id for r in rows)
        if len(seen) > 200_000:
            for old in sorted(seen)[:100_000]:
                seen.discard(old)
    report = SyncReport(position=start)
    if not rows:
        return report
    service_keys = {r.key for r in rows if r.kind == "service"}
    ticket_keys = {r.key for r in rows if r.kind == "ticket"}
    if service_keys:
        found = session.scalars(public_services_query().where(Service.code.in_(service_keys))).all()
        catalog_index.upsert(service_doc(s) for s in found)
        gone = service_keys - {s.code for s in found}
        if gone:
            catalog_index.delete(sorted(gone))
        report.services = len(service_keys)
    if ticket_keys and ticket_index is not None:
        found = session.scalars(_ticket_query().where(Ticket.number.in_(ticket_keys))).all()
        ticket_index.upsert(ticket_doc(t) for t in found)
        gone = ticket_keys - {t.number for t in found}
        if gone:
            ticket_index.delete(sorted(gone))
        report.tickets = len(ticket_keys)
    report.position = max(start, rows[-1].id)
    position.write(report.position)
    return report


def prune(session: Session) -> int:
    """Drop rows every host has long since applied (run from cron or the indexer)."""
    result = session.execute(delete(SearchOutbox).where(SearchOutbox.created_at < utcnow() - KEEP))
    session.commit()
    return result.rowcount or 0

