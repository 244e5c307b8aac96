"""Binds the catalog search index (search_index.CatalogIndex) to a Flask app."""
from __future__ import annotations

from typing import Iterator

from flask import Flask, current_app

from search_index import CatalogIndex


class SearchExtension:
    def init_app(self, app: Flask) -> None:
        state = app.extensions["portal.db"]

        def docs_provider() -> Iterator[dict]:
            # Called when the index is missing or unreadable: rebuild from the database.
            from sqlalchemy.orm import Session

            from services.catalog import iter_docs

            with Session(bind=state.engine) as session:
                yield from iter_docs(session)

        app.extensions["portal.search"] = CatalogIndex(app.config["INDEX_DIR"], docs_provider=docs_provider)

    @property
    def index(self) -> CatalogIndex:
        return current_app.extensions["portal.search"]
