"""Parsing of query-string parameters shared by the pages and the API."""
from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

MAX_PAGE = 10_000


class ParamError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class CatalogQuery:
    q: str = ""
    category: str | None = None
    bureau: str | None = None
    online: bool | None = None
    page: int = 1
    per_page: int = 10


def _int(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name, "").strip()
    if raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ParamError(name, f"{name} 应为 {low} 到 {high} 之间的整数")
    return int(raw)


def parse_catalog_query(args: MultiDict, default_per_page: int, max_per_page: int) -> CatalogQuery:
    """Strict parsing: raises ParamError naming the first bad parameter."""
    online_raw = args.get("online", "").strip().lower()
    online = {"": None, "true": True, "1": True, "false": False, "0": False}.get(online_raw, "bad")
    if online == "bad":
        raise ParamError("online", "online 应为 true 或 false")
    return CatalogQuery(
        q=args.get("q", ""),
        category=args.get("category", "").strip() or None,
        bureau=args.get("bureau", "").strip() or None,
        online=online,  # type: ignore[arg-type]
        page=_int(args, "page", 1, 1, MAX_PAGE),
        per_page=_int(args, "per_page", default_per_page, 1, max_per_page),
    )
