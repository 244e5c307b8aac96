"""Parsing of query-string parameters shared by the pages and the API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from werkzeug.datastructures import MultiDict

from services.core.texts import N_, Text

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
        raise ParamError(name, Text(N_("%(name)s 应为 %(low)s 到 %(high)s 之间的整数"), name=name, low=low, high=high))
    return int(raw)


def parse_catalog_query(args: MultiDict, default_per_page: int, max_per_page: int) -> CatalogQuery:
    """Strict parsing: raises ParamError naming the first bad parameter."""
    online_raw = args.get("online", "").strip().lower()
    online = {"": None, "true": True, "1": True, "false": False, "0": False}.get(online_raw, "bad")
    if online == "bad":
        raise ParamError("online", Text(N_("%(name)s 应为 true 或 false"), name="online"))
    return CatalogQuery(
        q=args.get("q", ""),
        category=args.get("category", "").strip() or None,
        bureau=args.get("bureau", "").strip() or None,
        online=online,  # type: ignore[arg-type]
        page=_int(args, "page", 1, 1, MAX_PAGE),
        per_page=_int(args, "per_page", default_per_page, 1, max_per_page),
    )


def parse_date(args: MultiDict, name: str) -> date | None:
    """An optional ISO date (2026-12-01) from the query string; ParamError names the parameter."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ParamError(name, Text(N_("日期格式应为 2026-12-01"))) from None


def parse_queue_filter(args: MultiDict):
    """The staff queue's filters, as the queue page and the tickets API spell them:
    status, service, bureau, who=mine|unassigned (or mine=true), due=soon|overdue (or
    overdue=true), from, to (submission dates)."""
    from services.tickets.queue import QueueFilter

    flags = {"": None, "true": True, "1": True, "false": False, "0": False}
    overdue = flags.get(args.get("overdue", "").strip().lower(), "bad")
    mine = flags.get(args.get("mine", "").strip().lower(), "bad")
    for name, value in (("overdue", overdue), ("mine", mine)):
        if value == "bad":
            raise ParamError(name, Text(N_("%(name)s 应为 true 或 false"), name=name))
    who = args.get("who", "")
    return QueueFilter(status=args.get("status") or None, service=args.get("service") or None,
                       mine=who == "mine" or mine is True, unassigned=who == "unassigned",
                       due="overdue" if overdue else (args.get("due") or None),
                       submitted_from=parse_date(args, "from"), submitted_to=parse_date(args, "to"),
                       bureau=args.get("bureau") or None)
