"""Bringing a search index in line with the catalog after a change.

A change that affects search records it in its own transaction (`search_changed`: the search
outbox, which the web worker applies after the request, or `search sync`); callers outside a
web worker (the CLI, scripts) hand their index in and bring it in line at once (`sync_now`,
`sync_index`, `rebuild_index`).
"""
from __future__ import annotations

from typing import Callable, Iterable, Protocol, Sequence

from sqlalchemy.orm import Session

from services import outbox
from services.catalog.documents import count_public_services, iter_docs, public_services_query, service_doc
from services.models import Service


class SearchIndex(Protocol):
    """What the catalog needs of the search index (see search_index.CatalogIndex)."""

    def upsert(self, docs: Iterable[dict]) -> None: ...
    def delete(self, codes: Iterable[str]) -> None: ...
    def rebuild(self, docs: Iterable[dict], total: int | None = None,
                progress: Callable[[int], None] | None = None) -> int: ...


def search_changed(session: Session, codes: Iterable[str]) -> list[str]:
    """Record in this transaction that these services' search documents changed (the search
    outbox: the web worker applies it after the request, or `search sync` does)."""
    codes = sorted(set(codes))
    outbox.enqueue(session, "service", codes)
    return codes


def sync_now(session: Session, index: SearchIndex | None, codes: Sequence[str]) -> None:
    """For callers outside a web worker (CLI, scripts): bring their index in line at once."""
    if index is not None and codes:
        sync_index(session, index, changed_codes=codes)


def sync_index(session: Session, index: SearchIndex, *, changed_codes: Iterable[str] = (),
               removed_codes: Iterable[str] = (), full: bool = False) -> None:
    """Bring the index in line with the database after a catalog change."""
    if full:
        rebuild_index(session, index)
        return
    changed = sorted(set(changed_codes))
    if changed:
        services = session.scalars(public_services_query().where(Service.code.in_(changed))).all()
        public = {s.code for s in services}
        index.upsert(service_doc(s) for s in services)
        removed_codes = set(removed_codes) | (set(changed) - public)
    if removed_codes:
        index.delete(sorted(set(removed_codes)))


def rebuild_index(session: Session, index: SearchIndex, progress: Callable[[int], None] | None = None) -> int:
    return index.rebuild(iter_docs(session), total=count_public_services(session), progress=progress)

