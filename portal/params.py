"""Parsing of query-string parameters and integer path parts shared by the pages and the API.

A bad parameter raises ParamError, which the app's error handlers (portal/errors.py) answer with
400 naming the parameter — a page, a JSON API error or an Open311 error; a view catches it only to
do something else (the public search drops the parameter and says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, ValidationError

from services.core.texts import N_, Text

MAX_PAGE = 10_000
#: The largest integer a path part may carry: the largest id of the schema's INTEGER primary keys
#: (32 bits on PostgreSQL, 64 on SQLite). A larger one matches no route (404) instead of reaching the
#: database driver, which would fail on it (PostgreSQL: out of range for type integer; beyond
#: 2**63 - 1 SQLite too: Python int too large to convert).
MAX_INT = 2**31 - 1
#: Dates a filter may name. The ends of Python's calendar (0001-01-01, 9999-12-31) cannot be turned
#: into the start of a day in UTC, and no ticket is that old or that far ahead.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` in every route (registered under the name `int` by the app factory): ASCII digits
    only and at most MAX_INT, so an id no row can have (beyond 32 bits, or thousands of digits)
    is a 404, never a 500."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_INT,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        if len(value.lstrip("-")) > len(str(MAX_INT)):  # never parse thousands of digits
            raise ValidationError()
        return super().to_python(value)


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


def parse_int(args: MultiDict, name: str, default, low: int, high: int):
    """An optional whole number from low to high (ASCII digits); `default` when absent or empty."""
    raw = args.get(name, "").strip()
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)) or not low <= int(raw) <= high:
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
        page=parse_int(args, "page", 1, 1, MAX_PAGE),
        per_page=parse_int(args, "per_page", default_per_page, 1, max_per_page),
    )


def parse_date(args: MultiDict, name: str) -> date | None:
    """An optional ISO date (2026-12-01) from the query string; ParamError names the parameter."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ParamError(name, Text(N_("日期格式应为 2026-12-01"))) from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ParamError(name, Text(N_("日期应在 %(first)s 到 %(last)s 之间"), first=FIRST_DATE.isoformat(),
                                    last=LAST_DATE.isoformat()))
    return day


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
