"""The filters of the statistics pages and exports: a date range of submission (Beijing dates)
and optionally one bureau, checked with a Chinese message per field. Who may choose which
bureau is ``services.policy.dashboard_bureau``'s to say. No Flask imports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import policy
from services.core.clock import local_today, start_of_day
from services.core.errors import ValidationFailed
from services.models import Bureau, Ticket, User

MAX_SPAN_YEARS = 5
DEFAULT_MONTHS = 12
MIN_YEAR, MAX_YEAR = 2000, 2099


@dataclass(frozen=True)
class StatsFilter:
    """Tickets submitted from ``date_from`` to ``date_to`` (Beijing dates, both included),
    optionally of one bureau."""

    date_from: date
    date_to: date
    bureau_id: int | None = None
    bureau_code: str | None = None
    bureau_name: str | None = None

    @property
    def start(self) -> datetime:
        return start_of_day(self.date_from)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound (UTC)."""
        return start_of_day(self.date_to + timedelta(days=1))

    def as_args(self) -> dict[str, str]:
        args = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.bureau_code:
            args["bureau"] = self.bureau_code
        return args

    def describe(self) -> str:
        return f"{self.date_from.isoformat()} 至 {self.date_to.isoformat()} · {self.bureau_name or '全部单位'}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_from(to: date, months: int = DEFAULT_MONTHS) -> date:
    """The first day of the month ``months - 1`` months before ``to``'s month (12 whole months)."""
    index = to.year * 12 + (to.month - 1) - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def default_range(today: date | None = None) -> tuple[date, date]:
    """The range the statistics pages count when no date is given: the current month and the
    ``DEFAULT_MONTHS - 1`` whole months before it, up to today (Beijing date)."""
    today = today or local_today()
    return default_from(today), today


def _parse_day(raw: str | date | None, field: str, label: str, errors: dict[str, str]) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = f"{label}格式不对，请按 2026-01-31 的格式填写"
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors[field] = f"{label}应在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间"
        return None
    return day


def parse_filter(session: Session, date_from: str | date | None = None, date_to: str | date | None = None,
                 bureau: str | None = None, *, today: date | None = None) -> StatsFilter:
    """Check the filters of the statistics pages and exports.

    Empty dates default to ``default_range``: this month and the 11 whole months before it, up
    to today (an empty start alone: the 12 months up to the end given). Raises ValidationFailed with a
    Chinese message under ``from``, ``to`` and/or ``bureau`` for an unreadable date, a start after
    the end, a range over 5 years, or an unknown bureau code.
    """
    today = today or local_today()
    errors: dict[str, str] = {}
    start = _parse_day(date_from, "from", "开始日期", errors)
    end = _parse_day(date_to, "to", "结束日期", errors)
    bureau_row = None
    code = (bureau or "").strip()
    if code:
        bureau_row = session.scalar(select(Bureau).where(Bureau.code == code[:32]))
        if bureau_row is None:
            shown = code if len(code) <= 32 else code[:32] + "…"
            errors["bureau"] = f"没有编码为“{shown}”的单位，请从列表中选择"
    if "from" not in errors and "to" not in errors:
        end = end or (today if start is None or start <= today else start)
        start = start or default_from(end)
        if start > end:
            errors["from"] = "开始日期不能晚于结束日期"
        elif end >= _add_years(start, MAX_SPAN_YEARS):
            where = "to" if date_to not in (None, "") else "from"
            errors[where] = f"统计区间不能超过 {MAX_SPAN_YEARS} 年，请缩短日期范围"
    if errors:
        raise ValidationFailed(errors, "筛选条件有误：" + "；".join(errors.values()))
    assert start is not None and end is not None
    if bureau_row is None:
        return StatsFilter(start, end)
    return StatsFilter(start, end, bureau_row.id, bureau_row.code, bureau_row.short_name)


def filter_for(session: Session, user: User, date_from: str | date | None = None,
               date_to: str | date | None = None, bureau: str | None = None, *,
               today: date | None = None) -> StatsFilter:
    """``parse_filter`` within what ``user`` may see (``services.policy.dashboard_bureau``)."""
    return parse_filter(session, date_from, date_to, policy.dashboard_bureau(user, bureau), today=today)


def bureau_choices(session: Session) -> list[tuple[str, str]]:
    """(code, short name) of every bureau, in the directory order, for the filter form."""
    return [(b.code, b.short_name) for b in session.scalars(select(Bureau).order_by(Bureau.position, Bureau.code))]


def ticket_conditions(flt: StatsFilter) -> list:
    """The WHERE clause of the filter's tickets: submitted in the range, of the bureau if one is chosen."""
    conditions = [Ticket.created_at >= flt.start, Ticket.created_at < flt.end]
    if flt.bureau_id is not None:
        conditions.append(Ticket.bureau_id == flt.bureau_id)
    return conditions
