"""Binds the search indexes (catalog and tickets) to a Flask app and keeps them in step.

SEARCH_SYNC = "inline" (default, one process: the demo and the tests): a request that changed
something searchable applies the search outbox itself before its response goes out, so the
next search sees it. SEARCH_SYNC = "indexer" (several workers or hosts): web workers never
open an index writer; `flask --app portal search sync --follow` on each host applies the outbox.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from flask import Flask, current_app
from sqlalchemy.orm import Session

from search_index import CatalogIndex
from search_index.tickets import TicketIndex, TicketIndexUnavailable
from services import search_sync


class SearchExtension:
    def init_app(self, app: Flask) -> None:
        state = app.extensions["portal.db"]

        def docs_provider() -> Iterator[dict]:
            # Called when the catalog index is missing or unreadable: rebuild from the database.
            from services.catalog import iter_docs

            with Session(bind=state.engine) as session:
                yield from iter_docs(session)

        app.extensions["portal.search"] = CatalogIndex(app.config["INDEX_DIR"], docs_provider=docs_provider)
        app.extensions["portal.tickets"] = TicketIndex(app.config["TICKET_INDEX_DIR"])
        app.extensions["portal.search_position"] = search_sync.Position(Path(app.config["SEARCH_SYNC_STATE"]))

        if app.config["SEARCH_SYNC"] == "inline":
            @app.after_request
            def apply_search_outbox(response):
                session = state.sessions()
                if session.info.pop("search_dirty", False):
                    with Session(bind=state.engine) as fresh:
                        search_sync.apply_pending(fresh, self.index, self.tickets, self.position)
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
        return self.tickets.rebuild(search_sync.iter_ticket_docs(session), total=search_sync.count_tickets(session),
                                    progress=progress)

    def search_tickets(self, session: Session, q: str, bureau_ids: set[int] | None) -> list[str]:
        """Ticket numbers matching q among the bureaus given (None: all); rebuilds a missing index."""
        try:
            return self.tickets.search(q, bureau_ids=bureau_ids)
        except TicketIndexUnavailable:
            with Session(bind=session.get_bind()) as fresh:
                self.rebuild_tickets(fresh)
            return self.tickets.search(q, bureau_ids=bureau_ids)
