"""Admin overrides stored in holiday_override, and calendars loaded from the database."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from portal.database import make_engine
from services.core import schema
from services.core.errors import ValidationFailed
from services.models import HolidayOverride
from services.tickets.workdays import (
    Calendar,
    delete_override,
    list_overrides,
    set_override,
    uncovered_message,
)


@pytest.fixture
def session(tmp_path):
    engine = make_engine("sqlite:///" + str(tmp_path / "t.db"))
    schema.upgrade(engine)
    with Session(bind=engine) as session:
        yield session
    engine.dispose()


def test_set_override_creates_and_updates(session):
    row = set_override(session, date(2026, 3, 14), True, "临时调休上班")
    assert row.id is not None
    assert (row.day, row.is_workday, row.note) == (date(2026, 3, 14), True, "临时调休上班")

    again = set_override(session, date(2026, 3, 14), False, "  改为休息  ")
    assert again.id == row.id
    assert again.is_workday is False and again.note == "改为休息"
    assert session.query(HolidayOverride).count() == 1


def test_set_override_commits(session, tmp_path):
    set_override(session, date(2026, 3, 16), False)
    engine = make_engine("sqlite:///" + str(tmp_path / "t.db"))
    with Session(bind=engine) as other:
        rows = list_overrides(other)
        assert [(r.day, r.is_workday, r.note) for r in rows] == [(date(2026, 3, 16), False, "")]
    engine.dispose()


def test_set_override_rejects_long_note(session):
    with pytest.raises(ValidationFailed) as info:
        set_override(session, date(2026, 3, 16), False, "长" * 101)
    assert "note" in info.value.fields
    assert list_overrides(session) == []


def test_list_overrides_sorted_and_by_year(session):
    set_override(session, date(2027, 1, 1), False, "元旦")
    set_override(session, date(2026, 12, 31), False)
    set_override(session, date(2026, 3, 14), True)
    assert [r.day for r in list_overrides(session)] == [
        date(2026, 3, 14), date(2026, 12, 31), date(2027, 1, 1),
    ]
    assert [r.day for r in list_overrides(session, 2026)] == [date(2026, 3, 14), date(2026, 12, 31)]
    assert [r.day for r in list_overrides(session, 2027)] == [date(2027, 1, 1)]
    assert list_overrides(session, 2030) == []


def test_delete_override(session):
    set_override(session, date(2026, 3, 14), True)
    set_override(session, date(2026, 3, 16), False)
    delete_override(session, date(2026, 3, 14))
    assert [r.day for r in list_overrides(session)] == [date(2026, 3, 16)]
    delete_override(session, date(2026, 3, 14))  # already gone: no error
    assert [r.day for r in list_overrides(session)] == [date(2026, 3, 16)]


def test_calendar_from_session(session):
    set_override(session, date(2026, 3, 14), True, "周六上班")
    set_override(session, date(2026, 3, 16), False, "周一休息")
    set_override(session, date(2040, 10, 1), False, "国庆节")
    cal = Calendar.from_session(session)
    assert cal.is_workday(date(2026, 3, 14))
    assert not cal.is_workday(date(2026, 3, 16))
    assert cal.add_workdays(date(2026, 3, 13), 2) == date(2026, 3, 17)
    assert not cal.is_workday(date(2040, 10, 1))
    assert cal.warnings() == []
    assert cal.is_workday(date(2040, 10, 2))
    assert cal.warnings() == [uncovered_message(2040)]


def test_calendar_from_empty_session(session):
    cal = Calendar.from_session(session)
    assert cal.overrides == {}
    assert cal.add_workdays(date(2026, 9, 21), 20) == date(2026, 10, 26)
