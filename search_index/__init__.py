"""Full-text search over the service catalog (Whoosh + jieba + pypinyin).

Works on plain dicts; no Flask, no database.  See :class:`CatalogIndex`.

>>> idx = CatalogIndex("instance/index", docs_provider=load_all_services)
>>> idx.rebuild(load_all_services())
>>> result = idx.search("地磅 年检", category="metrology")
>>> [h.code for h in result.hits]
"""

from .index import CatalogIndex
from .results import Alternative, Hit, IndexUnavailable, SearchResult

__all__ = ["Alternative", "CatalogIndex", "SearchResult", "Hit", "IndexUnavailable"]
from .tickets import TicketIndex, TicketIndexUnavailable  # noqa: E402,F401
