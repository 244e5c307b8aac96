"""Admin console: the holiday calendar — the official calendar per year (services.tickets.workdays,
from chinesecalendar) with the admin's overrides (holidays and make-up working days), and the
warning for a year the library does not cover yet.

Every change writes an AuditLog row (services.audit) in the same transaction as the override:
the row is added first so workdays.set_override / delete_override's commit carries both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit import audit
from services.core.clock import local_today
from services.core.errors import NotFound, ValidationFailed
from services.core.texts import N_, Text
from services.core.transaction import atomic
from services.models import HolidayOverride, User
from services.tickets import workdays

# services.tickets.workdays.uncovered_message with the year as a value (see uncovered_warning)
UNCOVERED_YEAR = N_("%(year)s 年的法定节假日尚未收录，按周一至周五计算工作日，请管理员在节假日设置中补充。")


def uncovered_warning(year: int) -> str:
    """workdays.uncovered_message(year) as a Text (or as it is, should the two ever differ)."""
    text = Text(UNCOVERED_YEAR, year=year)
    message = workdays.uncovered_message(year)
    return text if text == message else message


@dataclass
class HolidayPage:
    year: int
    overrides: list[HolidayOverride]
    covered: range
    year_covered: bool
    warning: str | None
    years: list[int]


def holiday_page(session: Session, year: int | None = None, today: date | None = None) -> HolidayPage:
    today = today or local_today()
    year = year if year and 2000 <= year <= 2100 else today.year
    covered = workdays.covered_years()
    override_years = {d.year for d in session.scalars(select(HolidayOverride.day))}
    years = sorted(override_years | {today.year, today.year + 1, year, covered.stop - 1})
    overrides = workdays.list_overrides(session, year)
    is_covered = year in covered
    return HolidayPage(
        year, overrides, covered, is_covered, None if is_covered else uncovered_warning(year), years
    )


def _override_record(row: HolidayOverride) -> dict[str, Any]:
    return {"day": row.day.isoformat(), "is_workday": row.is_workday, "note": row.note}


def add_holiday(
    session: Session, actor: User, day: date | None, is_workday: bool | None, note: str = ""
) -> HolidayOverride:
    """Mark a day as a holiday or a make-up working day (replaces an earlier override of that day)."""
    fields: dict[str, str] = {}
    if day is None:
        fields["day"] = Text(N_("请填写日期，如 2027-01-01"))
    elif not 2000 <= day.year <= 2100:
        fields["day"] = Text(N_("日期应在 2000 年到 2100 年之间"))
    if is_workday is None:
        fields["is_workday"] = Text(N_("请选择放假或上班"))
    if len((note or "").strip()) > workdays.NOTE_MAX_LENGTH:
        fields["note"] = Text(N_("说明不能超过 %(max)d 个字"), max=workdays.NOTE_MAX_LENGTH)
    if fields:
        raise ValidationFailed(fields)
    assert day is not None
    existing = session.scalar(select(HolidayOverride).where(HolidayOverride.day == day))
    before = _override_record(existing) if existing else None
    after = {"day": day.isoformat(), "is_workday": bool(is_workday), "note": (note or "").strip()}
    if before == after:
        return existing  # type: ignore[return-value]
    with atomic(session):
        audit(
            session,
            actor,
            "update" if before else "create",
            "holiday",
            day.isoformat(),
            before=before,
            after=after,
        )
        return workdays.set_override(session, day, bool(is_workday), note or "")


def remove_holiday(session: Session, actor: User, day: date) -> None:
    existing = session.scalar(select(HolidayOverride).where(HolidayOverride.day == day))
    if existing is None:
        raise NotFound(Text(N_("%(day)s 没有调整记录"), day=day.isoformat()))
    with atomic(session):
        audit(session, actor, "delete", "holiday", day.isoformat(), before=_override_record(existing))
        workdays.delete_override(session, day)


def parse_day(text: str | None) -> date | None:
    """A date from the form's ISO text (2027-01-01), or None."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None

