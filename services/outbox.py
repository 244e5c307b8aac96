"""Keeping the search indexes in step with the database through the search outbox.

Every change that affects search adds `SearchOutbox` rows in its own transaction (`enqueue`).
An indexer applies the rows after its position (`apply_pending`) and records the new position
in a small state file next to the indexes, so every host keeps its own index files and nothing
is lost if the indexer is killed: it simply starts again from its last recorded position.
Rows are re-read for a short grace period after their position, because a transaction that
took a lower id can commit after a higher one; applying a row twice does no harm, since each
row only says "look this key up in the database again".

The position only ever moves past rows that were applied. When the ticket index is missing,
stale (another schema version or field layout) or damaged, nothing is applied and the position
stays where it is: the indexer (`apply_pending(..., rebuild=True)`, what `flask --app portal
search sync` runs) rebuilds the ticket index from the database first and then drains the rows
as usual; everyone else gets `TicketIndexUnavailable` and leaves the rebuild to the indexer.
A rebuild covers every change committed before it started, so the state file also records
`tickets_covered_before`: ticket rows created before that moment (minus the grace period)
are skipped instead of being applied a second time.

`iter_ticket_docs` reads the tickets with plain SELECTs in batches (keyset by ticket id):
one query for the tickets with their request and enterprise, one each for the batch's
request items (with service names), public messages and co-handling bureaus. No ORM objects
are built, so a rebuild at a million tickets spends its time in the index, not in the ORM.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, Protocol, cast, overload

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from search_index.tickets import TicketIndexUnavailable
from services.catalog.documents import public_services_query, service_doc
from services.core.clock import utcnow
from services.core.transaction import atomic
from services.models import CoHandler, Enterprise, Request, RequestItem, SearchOutbox, Service, Ticket, TicketEvent

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=60)
KEEP = timedelta(days=7)
BATCH = 500
#: Tickets per batch of `iter_ticket_docs`.
DOC_BATCH = 2000


class Index(Protocol):
    def upsert(self, docs: Iterable[dict]) -> None: ...
    def delete(self, keys: Iterable[str]) -> None: ...


class TicketIndexLike(Index, Protocol):
    def available(self) -> bool: ...
    def rebuild(self, docs: Iterable[dict], total: int | None = None,
                progress: Callable[[int], None] | None = None, *,
                if_unavailable: bool = False) -> int | None: ...


def enqueue(session: Session, kind: str, keys: Iterable[str]) -> None:
    """Record that these services or tickets changed (in the caller's transaction)."""
    added = False
    for key in sorted(set(keys)):
        session.add(SearchOutbox(kind=kind, key=key))
        added = True
    if added:
        session.info["search_dirty"] = True


# --------------------------------------------------------------------------- documents
def _value_text(value: Any) -> str:
    """A request-field value as indexed text (a list: its values separated by spaces)."""
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _head_query():
    """One row per ticket: what the document needs from the ticket, its request and enterprise."""
    return (select(Ticket.id, Ticket.number, Ticket.status, Ticket.bureau_id, Ticket.request_id,
                   Request.number.label("request_number"), Request.description,
                   Enterprise.name.label("enterprise"), Enterprise.uscc)
            .join(Request, Request.id == Ticket.request_id)
            .join(Enterprise, Enterprise.id == Request.enterprise_id))


def _docs(session: Session, heads: Sequence[Any], among: Callable[[Any], Any]) -> list[dict[str, Any]]:
    """The documents of the tickets in *heads*; *among(column)* is the WHERE clause that limits
    a ticket-id column to these tickets (a range for a batch, IN for a few numbers)."""
    items: dict[int, list[tuple[dict, str]]] = defaultdict(list)
    for r in session.execute(
            select(RequestItem.ticket_id, RequestItem.attributes, Service.name)
            .join(Service, Service.id == RequestItem.service_id)
            .where(among(RequestItem.ticket_id))
            .order_by(RequestItem.ticket_id, RequestItem.id)):
        items[r.ticket_id].append((r.attributes or {}, r.name))
    messages: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for r in session.execute(
            select(TicketEvent.ticket_id, TicketEvent.request_id, TicketEvent.message)
            .where(among(TicketEvent.ticket_id), TicketEvent.public.is_(True), TicketEvent.message != "")
            .order_by(TicketEvent.ticket_id, TicketEvent.id)):
        messages[r.ticket_id].append((r.request_id, r.message))
    co_handlers: dict[int, list[int]] = defaultdict(list)
    for r in session.execute(
            select(CoHandler.ticket_id, CoHandler.bureau_id)
            .where(among(CoHandler.ticket_id))
            .order_by(CoHandler.ticket_id, CoHandler.id)):
        co_handlers[r.ticket_id].append(r.bureau_id)

    docs = []
    for h in heads:
        its = items.get(h.id, ())
        text = [h.description]
        for attributes, _name in its:
            text += [_value_text(v) for v in attributes.values()]
        # The public timeline of this ticket (events of its own request, as the request page shows).
        text += [m for request_id, m in messages.get(h.id, ()) if request_id == h.request_id and m]
        docs.append({"number": h.number, "request_number": h.request_number, "status": h.status,
                     "bureau_ids": [h.bureau_id, *co_handlers.get(h.id, ())],
                     "enterprise": h.enterprise, "uscc": h.uscc,
                     "services": [name for _attributes, name in its],
                     "text": "\n".join(t for t in text if t)})
    return docs


def iter_ticket_docs(session: Session, batch: int = DOC_BATCH) -> Iterator[dict[str, Any]]:
    """Every ticket's search document, oldest first (the order TicketIndex.rebuild expects)."""
    last = 0
    while True:
        heads = session.execute(_head_query().where(Ticket.id > last).order_by(Ticket.id).limit(batch)).all()
        if not heads:
            return
        lo, hi = heads[0].id, heads[-1].id
        yield from _docs(session, heads, lambda column: column.between(lo, hi))
        last = hi


def ticket_docs(session: Session, numbers: Iterable[str]) -> list[dict[str, Any]]:
    """The documents of the tickets with these numbers (unknown numbers are left out)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return []
    heads = session.execute(_head_query().where(Ticket.number.in_(wanted)).order_by(Ticket.id)).all()
    ids = [h.id for h in heads]
    return _docs(session, heads, lambda column: column.in_(ids)) if ids else []


def count_tickets(session: Session) -> int:
    return session.scalar(select(func.count(Ticket.id))) or 0


_NUMBER_RE = re.compile(r"^LX\d{14,}(-\d+)?$")


def tickets_by_number(session: Session, q: str, bureau_ids: set[int] | None) -> list[str] | None:
    """Tickets whose ticket number or request number is exactly *q*, straight from the database,
    among the bureaus given (owner or co-handler; None: all). None when *q* is not a number.
    What the staff queue can still find while the ticket index is being rebuilt."""
    token = "".join(unicodedata.normalize("NFKC", q or "").split()).upper()
    m = _NUMBER_RE.match(token)
    if m is None:
        return None
    if bureau_ids is not None and not bureau_ids:
        return []
    condition = Ticket.number == token if m.group(1) else Request.number == token
    query = select(Ticket.number).join(Request, Request.id == Ticket.request_id).where(condition)
    if bureau_ids is not None:
        ids = sorted(bureau_ids)
        query = query.where(or_(Ticket.bureau_id.in_(ids), exists().where(
            CoHandler.ticket_id == Ticket.id, CoHandler.bureau_id.in_(ids))))
    return list(session.scalars(query.order_by(Ticket.id.desc())))


# --------------------------------------------------------------------------- position
def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Position:
    """This host's sync state (a small JSON file): `last_id`, the outbox row up to which
    everything has been applied, and `tickets_covered_before`, the moment before which every
    change is in the ticket index because its last rebuild started after it."""

    path: Path

    def _state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".sync-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh)
            os.replace(tmp, self.path)  # atomic: a killed indexer leaves the old or the new state
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def read(self) -> int:
        try:
            return int(self._state().get("last_id", 0))
        except (TypeError, ValueError):
            return 0

    def write(self, last_id: int) -> None:
        state = self._state()
        state["last_id"] = last_id
        self._save(state)

    def tickets_covered_before(self) -> datetime | None:
        return _parse_time(self._state().get("tickets_covered_before"))

    def mark_tickets_rebuilt(self, covered_before: datetime) -> None:
        state = self._state()
        state["tickets_covered_before"] = covered_before.astimezone(timezone.utc).isoformat()
        self._save(state)


def current_max_id(session: Session) -> int:
    return session.scalar(select(func.max(SearchOutbox.id))) or 0


def position_after_rebuild(session: Session, started: datetime) -> int:
    """The outbox position a full rebuild that started at *started* may move to: the newest row
    written before started - GRACE (committed by then, so in the rebuild). Rows after it are
    applied again; applying a row twice is harmless, skipping one is not."""
    return session.scalar(select(func.max(SearchOutbox.id)).where(SearchOutbox.created_at < started - GRACE)) or 0


# --------------------------------------------------------------------------- rebuilding
@overload
def rebuild_tickets(session: Session, ticket_index: TicketIndexLike, position: Position | None = None,
                    progress: Callable[[int], None] | None = None, *,
                    if_unavailable: Literal[False] = False) -> int: ...


@overload
def rebuild_tickets(session: Session, ticket_index: TicketIndexLike, position: Position | None = None,
                    progress: Callable[[int], None] | None = None, *,
                    if_unavailable: bool) -> int | None: ...


def rebuild_tickets(session: Session, ticket_index: TicketIndexLike, position: Position | None = None,
                    progress: Callable[[int], None] | None = None, *,
                    if_unavailable: bool = False) -> int | None:
    """Rebuild the ticket index from the database; returns the number of tickets indexed (None
    when *if_unavailable* and the index turned out to be usable: someone else rebuilt it).

    Records in *position* that every change made before the rebuild started (less the grace
    period: a transaction may commit a little after it wrote its outbox row) is in the index."""
    started = utcnow()
    count = ticket_index.rebuild(iter_ticket_docs(session), total=count_tickets(session), progress=progress,
                                 if_unavailable=if_unavailable)
    if count is not None and position is not None:
        position.mark_tickets_rebuilt(started - GRACE)
    return count


# --------------------------------------------------------------------------- applying
@dataclass
class SyncReport:
    services: int = 0
    tickets: int = 0
    position: int = 0
    rebuilt: int | None = None  # tickets indexed by a rebuild in this call


def apply_pending(session: Session, catalog_index: Index, ticket_index: TicketIndexLike | None,
                  position: Position, limit: int = BATCH, seen: set[int] | None = None, *,
                  rebuild: bool = False) -> SyncReport:
    """Apply outbox rows after this host's position, and rows of the grace period not yet seen
    by this process (`seen` remembers them between calls of a long-running indexer).

    When the ticket index is missing, stale or damaged, no row is applied and the position does
    not move. With *rebuild* (the indexer) the index is then rebuilt from the database and the
    rows applied after it; otherwise TicketIndexUnavailable is raised for the caller to arrange
    the rebuild. A web request must never pass rebuild=True: a rebuild takes minutes to hours."""
    report = SyncReport()
    force = False
    for attempt in (1, 2):
        if rebuild and ticket_index is not None and (force or not ticket_index.available()):
            report.rebuilt = _rebuild_for_sync(session, ticket_index, position, force=force)
        try:
            return _apply_rows(session, catalog_index, ticket_index, position, limit, seen, report)
        except TicketIndexUnavailable as exc:
            if not rebuild or attempt == 2:
                raise
            log.warning("ticket index cannot take the changes (%s): rebuilding it", exc)
            force = True
    raise AssertionError("unreachable")  # pragma: no cover


def _rebuild_for_sync(session: Session, ticket_index: TicketIndexLike, position: Position, *,
                      force: bool) -> int | None:
    reason = getattr(ticket_index, "unavailable_reason", lambda: None)()
    log.warning("ticket index unusable (%s): rebuilding it from the database (%d tickets) "
                "before applying changes",
                reason or "cannot be written", count_tickets(session))
    began = time.monotonic()
    count = rebuild_tickets(session, ticket_index, position, if_unavailable=not force)
    if count is not None:
        log.warning("ticket index rebuilt: %d tickets in %.0f s", count, time.monotonic() - began)
    return count


def _apply_rows(session: Session, catalog_index: Index, ticket_index: TicketIndexLike | None,
                position: Position, limit: int, seen: set[int] | None, report: SyncReport) -> SyncReport:
    start = position.read()
    report.position = start
    covered = position.tickets_covered_before() if ticket_index is not None else None
    query = select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.key)
    if covered is not None:
        query = query.add_columns((SearchOutbox.created_at < covered).label("covered"))
    rows = session.execute(
        query
        .where(or_(SearchOutbox.id > start, SearchOutbox.created_at > utcnow() - GRACE))
        .order_by(SearchOutbox.id).limit(limit)).all()
    if seen is not None:
        rows = [r for r in rows if r.id > start or r.id not in seen]
    if not rows:
        return report
    service_keys = {r.key for r in rows if r.kind == "service"}
    ticket_keys = {r.key for r in rows if r.kind == "ticket" and not (covered is not None and r.covered)}
    if ticket_keys and ticket_index is not None:
        # First: a missing or stale ticket index raises here, before anything else is applied.
        docs = ticket_docs(session, ticket_keys)
        if docs:
            ticket_index.upsert(docs)
        gone = ticket_keys - {d["number"] for d in docs}
        if gone:
            ticket_index.delete(sorted(gone))
        report.tickets = len(ticket_keys)
    if service_keys:
        found = session.scalars(public_services_query().where(Service.code.in_(service_keys))).all()
        catalog_index.upsert(service_doc(s) for s in found)
        gone = service_keys - {s.code for s in found}
        if gone:
            catalog_index.delete(sorted(gone))
        report.services = len(service_keys)
    if seen is not None:
        seen.update(r.id for r in rows)
        if len(seen) > 200_000:
            for old in sorted(seen)[:100_000]:
                seen.discard(old)
    report.position = max(start, rows[-1].id)
    if report.position != start:
        position.write(report.position)
    return report


def prune(session: Session) -> int:
    """Drop rows every host has long since applied (run from cron or the indexer)."""
    with atomic(session):
        # Session.execute is typed to return a Result, but for a DELETE it is a CursorResult, which
        # has the rowcount (the same cast as in services/stats/cache.py).
        result = cast(CursorResult, session.execute(
            delete(SearchOutbox).where(SearchOutbox.created_at < utcnow() - KEEP)))
    return result.rowcount or 0
