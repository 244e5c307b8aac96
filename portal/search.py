"""Binds the search indexes (catalog and tickets) to a Flask app and keeps them in step.

SEARCH_SYNC = "inline" (default, one process: the demo and the tests): a request that changed
something searchable applies the search outbox itself before its response goes out, so the
next search sees it. SEARCH_SYNC = "indexer" (several workers or hosts): web workers never
open an index writer; `flask --app portal search sync --follow` on each host applies the outbox.

A web request never rebuilds the ticket index (at a million tickets that takes half an hour).
When the index is missing, stale or damaged:

* indexer mode: the ticket search raises `TicketSearchUnavailable` (a `ServiceError` whose
  message tells staff to try again later and to look tickets up by number or the queue's
  filters meanwhile); an exact ticket or request number is still found, straight from the
  database. The indexer notices the index is unusable and rebuilds it before it applies more
  changes (services/search_sync.py).
* inline mode: the web process rebuilds it in one background thread (then applies the outbox);
  a search waits for that thread at most TICKET_INDEX_REBUILD_WAIT seconds (default 5: a demo
  database of a few thousand tickets is rebuilt within it, so its one user never notices) and
  otherwise gets the same answer as in indexer mode until the rebuild is done.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Iterator

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from search_index import CatalogIndex
from search_index.tickets import TicketIndex, TicketIndexUnavailable
from services import outbox as search_sync
from services.core.errors import ServiceError

log = logging.getLogger(__name__)

#: Seconds a search waits for the inline-mode background rebuild (config TICKET_INDEX_REBUILD_WAIT).
DEFAULT_REBUILD_WAIT = 5.0
#: At most one "ticket index unavailable" warning per process and this many seconds.
WARN_EVERY = 60.0
#: Seconds before a failed background rebuild (inline mode) is tried again.
RETRY_AFTER = 60.0


class TicketSearchUnavailable(ServiceError, TicketIndexUnavailable):
    """The ticket index cannot answer now (it is being rebuilt); the message is for staff."""

    status = 503
    code = "search_unavailable"


class InlineRebuild:
    """Inline mode only: rebuilds an unusable ticket index in one background thread of this
    process, then applies the search outbox (changes made meanwhile)."""

    def __init__(self, engine: Engine, catalog: CatalogIndex, tickets: TicketIndex,
                 position: search_sync.Position) -> None:
        self.engine, self.catalog, self.tickets, self.position = engine, catalog, tickets, position
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._failed_at = float("-inf")

    def start(self) -> None:
        """Start the rebuild unless one is running (or the last one failed less than a minute ago)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if time.monotonic() - self._failed_at < RETRY_AFTER:
                return
            self._thread = threading.Thread(target=self._run, name="ticket-index-rebuild", daemon=True)
            self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait for the running rebuild at most *timeout* seconds; True when none is running."""
        thread = self._thread
        if thread is not None:
            thread.join(max(0.0, timeout))
            return not thread.is_alive()
        return True

    def _run(self) -> None:
        try:
            with Session(bind=self.engine) as session:
                count = search_sync.rebuild_tickets(session, self.tickets, self.position, if_unavailable=True)
                if count is not None:
                    log.warning("ticket index rebuilt in the background: %d tickets", count)
                seen: set[int] = set()
                while True:
                    report = search_sync.apply_pending(session, self.catalog, self.tickets, self.position,
                                                       seen=seen)
                    session.rollback()  # end the read transaction between batches
                    if search_sync.current_max_id(session) <= report.position:
                        break
        except Exception:
            self._failed_at = time.monotonic()
            log.exception("background rebuild of the ticket index failed")


class SearchExtension:
    def init_app(self, app: Flask) -> None:
        state = app.extensions["portal.db"]

        def docs_provider() -> Iterator[dict]:
            # Called when the catalog index is missing or unreadable: rebuild from the database.
            from services.catalog.documents import iter_docs

            with Session(bind=state.engine) as session:
                yield from iter_docs(session)

        catalog = CatalogIndex(app.config["INDEX_DIR"], docs_provider=docs_provider)
        tickets = TicketIndex(app.config["TICKET_INDEX_DIR"])
        position = search_sync.Position(Path(app.config["SEARCH_SYNC_STATE"]))
        app.extensions["portal.search"] = catalog
        app.extensions["portal.tickets"] = tickets
        app.extensions["portal.search_position"] = position
        app.extensions["portal.search_warned"] = [float("-inf")]

        if app.config["SEARCH_SYNC"] == "inline":
            inline = InlineRebuild(state.engine, catalog, tickets, position)
            app.extensions["portal.ticket_rebuild"] = inline

            @app.after_request
            def apply_search_outbox(response):
                session = state.sessions()
                if session.info.pop("search_dirty", False):
                    with Session(bind=state.engine) as fresh:
                        try:
                            search_sync.apply_pending(fresh, catalog, tickets, position)
                        except TicketIndexUnavailable:
                            # Nothing applied, the position kept: the rebuild, then the outbox.
                            inline.start()
                        except Exception:
                            # The change is committed and stays in the outbox for the next
                            # request (or `search sync`): the response must not turn into an error.
                            log.exception("applying the search outbox failed")
                return response

    @property
    def index(self) -> CatalogIndex:
        return current_app.extensions["portal.search"]

    @property
    def tickets(self) -> TicketIndex:
        return current_app.extensions["portal.tickets"]

    @property
    def position(self) -> search_sync.Position:
        return current_app.extensions["portal.search_position"]

    def rebuild_tickets(self, session: Session, progress=None) -> int:
        """Rebuild the ticket index from the database now (CLI, setup; never a web request)."""
        return search_sync.rebuild_tickets(session, self.tickets, self.position, progress=progress)

    def search_tickets(self, session: Session, q: str, bureau_ids: set[int] | None) -> list[str]:
        """Ticket numbers matching q among the bureaus given (None: all).

        Never rebuilds the index in the request. While it is unusable an exact ticket or request
        number is still looked up in the database; anything else raises TicketSearchUnavailable
        (inline mode first waits a few seconds for its background rebuild, see the module)."""
        try:
            return self.tickets.search(q, bureau_ids=bureau_ids)
        except TicketIndexUnavailable as exc:
            reason = exc
        app = current_app
        inline: InlineRebuild | None = app.extensions.get("portal.ticket_rebuild")
        if inline is not None:
            inline.start()
            if inline.wait(float(app.config.get("TICKET_INDEX_REBUILD_WAIT", DEFAULT_REBUILD_WAIT))):
                try:
                    return self.tickets.search(q, bureau_ids=bureau_ids)
                except TicketIndexUnavailable as exc:
                    reason = exc
        self._warn(app, reason)
        found = search_sync.tickets_by_number(session, q, bureau_ids)
        if found is not None:
            return found
        raise TicketSearchUnavailable(_("全文检索索引正在重建，请稍后再试；可先按编号或筛选条件查找。"))

    @staticmethod
    def _warn(app: Flask, reason: Exception) -> None:
        warned = app.extensions["portal.search_warned"]
        now = time.monotonic()
        if now - warned[0] < WARN_EVERY:
            return
        warned[0] = now
        if app.config["SEARCH_SYNC"] == "inline":
            log.warning("ticket search unavailable (%s): being rebuilt in the background", reason)
        else:
            log.warning("ticket search unavailable (%s): `flask --app portal search sync --follow` "
                        "rebuilds it; "
                        "is the indexer running on this host?", reason)
