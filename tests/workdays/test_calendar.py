"""Working-day arithmetic on the real PRC calendar (chinesecalendar) with admin overrides.

Every real date asserted here is the installed chinesecalendar's data (the State Council's
annual 放假安排); the tests also assert the individual days they depend on, so a library
update that changes a day fails loudly at the day, not at a derived sum.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.tickets.workdays import (
    DUE_SOON,
    ON_TIME,
    OVERDUE,
    Calendar,
    UncoveredYear,
    covered_years,
    due_date,
    status_of,
    uncovered_message,
)

D = date


@pytest.fixture
def cal() -> Calendar:
    return Calendar()


# ------------------------------------------------------------------ library coverage
def test_covered_years_include_the_years_we_rely_on():
    years = covered_years()
    assert 2025 in years and 2026 in years
    assert 2040 not in years


# ------------------------------------------------------------------ the spec's example
def test_2026_national_day_and_mid_autumn_days(cal):
    # 中秋节 9月25日（周五）至27日放假；国庆节 10月1日至7日放假调休；9月20日（周日）、10月10日（周六）上班。
    assert cal.is_workday(D(2026, 9, 20))  # Sunday, make-up working day
    for day in range(25, 28):
        assert not cal.is_workday(D(2026, 9, day))
    for day in range(1, 8):
        assert not cal.is_workday(D(2026, 10, day))
    # The library ends the 2026 National Day holiday on 10-07: 10-08 (Thu) is a working day.
    assert cal.is_workday(D(2026, 10, 8))
    assert cal.is_workday(D(2026, 10, 10))  # Saturday, make-up working day
    assert not cal.is_workday(D(2026, 10, 11))  # Sunday


def test_spec_example_20_working_days_from_2026_09_21(cal):
    # 9-22..24 (3), 9-28..30 (6), 10-08, 10-09, 10-10 Sat (9), 10-12..16 (14),
    # 10-19..23 (19), 10-26 (20).
    assert cal.add_workdays(D(2026, 9, 21), 20) == D(2026, 10, 26)
    assert cal.workdays_between(D(2026, 9, 21), D(2026, 10, 26)) == 20
    assert cal.warnings() == []


# ------------------------------------------------------------------ 2026 Spring Festival
def test_2026_spring_festival_days(cal):
    # 春节 2月15日（周日）至23日（周一）放假调休；2月14日（周六）、2月28日（周六）上班。
    assert D(2026, 2, 14).weekday() == 5 and cal.is_workday(D(2026, 2, 14))
    assert D(2026, 2, 28).weekday() == 5 and cal.is_workday(D(2026, 2, 28))
    assert D(2026, 2, 16).weekday() == 0 and not cal.is_workday(D(2026, 2, 16))
    for day in range(15, 24):
        assert not cal.is_workday(D(2026, 2, day))
    assert cal.is_workday(D(2026, 2, 24))


def test_across_2026_spring_festival(cal):
    assert cal.add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)  # the make-up Saturday counts
    assert cal.add_workdays(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert cal.add_workdays(D(2026, 2, 12), 5) == D(2026, 2, 26)  # 13, 14, 24, 25, 26
    assert cal.add_workdays(D(2026, 2, 23), 5) == D(2026, 2, 28)  # 24..27 and Saturday 28
    assert cal.workdays_between(D(2026, 2, 13), D(2026, 2, 28)) == 6  # 14, 24, 25, 26, 27, 28


# ------------------------------------------------------------------ 2025 National Day
def test_across_2025_national_day(cal):
    # 10月1日至8日放假调休（含中秋）；9月28日（周日）、10月11日（周六）上班。
    assert cal.is_workday(D(2025, 9, 28))
    assert all(not cal.is_workday(D(2025, 10, day)) for day in range(1, 9))
    assert cal.is_workday(D(2025, 10, 11))
    assert cal.add_workdays(D(2025, 9, 26), 5) == D(2025, 10, 10)  # 28, 29, 30, 10-09, 10-10
    assert cal.add_workdays(D(2025, 9, 26), 6) == D(2025, 10, 11)
    assert cal.add_workdays(D(2025, 9, 26), 7) == D(2025, 10, 13)
    assert cal.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)


# ------------------------------------------------------------------ ordinary weeks
def test_plain_week(cal):
    monday = D(2026, 3, 9)
    assert monday.weekday() == 0
    assert [cal.is_workday(monday + timedelta(i)) for i in range(7)] == [True] * 5 + [False] * 2
    assert cal.add_workdays(monday, 1) == D(2026, 3, 10)
    assert cal.add_workdays(monday, 4) == D(2026, 3, 13)
    assert cal.add_workdays(monday, 5) == D(2026, 3, 16)
    assert cal.add_workdays(D(2026, 3, 13), 1) == D(2026, 3, 16)  # Friday -> Monday
    assert cal.add_workdays(D(2026, 3, 14), 1) == D(2026, 3, 16)  # Saturday -> Monday


def test_zero_working_days(cal):
    assert cal.add_workdays(D(2026, 3, 10), 0) == D(2026, 3, 10)
    assert cal.add_workdays(D(2026, 3, 14), 0) == D(2026, 3, 16)  # Saturday
    assert cal.add_workdays(D(2026, 10, 1), 0) == D(2026, 10, 8)  # National Day
    assert cal.add_workdays(D(2026, 2, 14), 0) == D(2026, 2, 14)  # make-up Saturday


def test_start_on_a_holiday(cal):
    assert cal.add_workdays(D(2026, 10, 1), 1) == D(2026, 10, 8)
    assert cal.add_workdays(D(2026, 10, 1), 3) == D(2026, 10, 10)
    assert cal.add_workdays(D(2026, 10, 3), 4) == D(2026, 10, 12)
    assert cal.add_workdays(D(2026, 2, 15), 1) == D(2026, 2, 24)


def test_negative_counts_backwards(cal):
    assert cal.add_workdays(D(2026, 10, 8), -1) == D(2026, 9, 30)
    assert cal.add_workdays(D(2026, 3, 16), -1) == D(2026, 3, 13)


def test_accepts_datetimes(cal):
    assert cal.add_workdays(datetime(2026, 9, 21, 16, 30), 20) == D(2026, 10, 26)
    assert cal.is_workday(datetime(2026, 10, 10, 9, 0))


# ------------------------------------------------------------------ workdays_between
@pytest.mark.parametrize(
    "start, end, expected",
    [
        (D(2026, 3, 9), D(2026, 3, 9), 0),
        (D(2026, 3, 10), D(2026, 3, 9), 0),
        (D(2026, 3, 9), D(2026, 3, 10), 1),
        (D(2026, 3, 13), D(2026, 3, 16), 1),  # Fri -> Mon
        (D(2026, 3, 13), D(2026, 3, 15), 0),  # Fri -> Sun
        (D(2026, 3, 14), D(2026, 3, 16), 1),  # Sat -> Mon
        (D(2026, 9, 30), D(2026, 10, 8), 1),
        (D(2026, 9, 30), D(2026, 10, 7), 0),
        (D(2026, 9, 19), D(2026, 9, 20), 1),  # the make-up Sunday
    ],
)
def test_workdays_between(cal, start, end, expected):
    assert cal.workdays_between(start, end) == expected


@pytest.mark.parametrize(
    "start", [D(2026, 1, 30), D(2026, 2, 13), D(2026, 9, 18), D(2026, 10, 3), D(2025, 9, 27)]
)
@pytest.mark.parametrize("n", [1, 2, 5, 10, 20, 60])
def test_add_and_between_agree(cal, start, n):
    end = cal.add_workdays(start, n)
    assert cal.is_workday(end)
    assert cal.workdays_between(start, end) == n
    assert cal.workdays_between(start, end - timedelta(days=1)) == n - 1
    assert cal.workdays_between(end, start) == 0


# ------------------------------------------------------------------ overrides
def test_overrides_win_over_the_library():
    saturday, monday = D(2026, 3, 14), D(2026, 3, 16)
    holiday = D(2026, 10, 5)
    cal = Calendar({saturday: True, monday: False, holiday: True})
    assert cal.is_workday(saturday)
    assert not cal.is_workday(monday)
    assert cal.is_workday(holiday)
    assert cal.add_workdays(D(2026, 3, 13), 1) == saturday
    assert cal.add_workdays(saturday, 1) == D(2026, 3, 17)
    assert cal.add_workdays(D(2026, 10, 1), 1) == holiday
    assert cal.workdays_between(D(2026, 3, 13), D(2026, 3, 17)) == 2
    # The library itself is untouched for other calendars.
    assert not Calendar().is_workday(saturday)
    assert Calendar().is_workday(monday)


def test_override_can_make_a_makeup_day_a_holiday():
    cal = Calendar({D(2026, 10, 10): False})
    assert not cal.is_workday(D(2026, 10, 10))
    assert cal.add_workdays(D(2026, 9, 21), 20) == D(2026, 10, 27)


# ------------------------------------------------------------------ uncovered years
def test_uncovered_year_falls_back_to_monday_to_friday_with_one_warning(cal):
    first_monday = D(2040, 1, 2)
    assert first_monday.weekday() == 0
    week = [cal.is_workday(first_monday + timedelta(i)) for i in range(7)]
    assert week == [True] * 5 + [False] * 2
    assert cal.is_workday(D(2040, 10, 1))  # a Monday; no National Day data for 2040
    assert cal.add_workdays(D(2040, 1, 5), 2) == D(2040, 1, 9)  # Thu -> Fri, Mon
    assert cal.add_workdays(D(2040, 1, 1), 250) > D(2040, 12, 1)
    assert cal.workdays_between(D(2040, 1, 1), D(2040, 1, 31)) == 22
    assert cal.warnings() == [
        "2040 年的法定节假日尚未收录，按周一至周五计算工作日，请管理员在节假日设置中补充。"
    ]
    assert cal.uncovered_years() == [2040]


def test_warnings_per_year_and_across_the_boundary(cal):
    last = max(covered_years())
    start = D(last, 12, 20)
    end = cal.add_workdays(start, 30)
    assert end.year == last + 1
    assert cal.warnings() == [uncovered_message(last + 1)]
    cal.is_workday(D(2003, 6, 2))  # before the library's first year
    cal.is_workday(D(2003, 6, 3))
    assert cal.warnings() == [uncovered_message(2003), uncovered_message(last + 1)]


def test_override_in_uncovered_year_needs_no_warning():
    day = D(2040, 2, 13)  # a Monday
    cal = Calendar({day: False})
    assert not cal.is_workday(day)
    assert cal.warnings() == []
    cal.is_workday(day + timedelta(days=1))
    assert cal.warnings() == [uncovered_message(2040)]


def test_uncovered_year_is_a_warning_class_not_raised():
    assert issubclass(UncoveredYear, Warning)
    assert UncoveredYear(2040).year == 2040
    assert str(UncoveredYear(2040)) == uncovered_message(2040)


# ------------------------------------------------------------------ due dates and states
def test_due_date(cal):
    assert due_date(cal, D(2026, 9, 21), 20) == D(2026, 10, 26)
    # Three working days of 补正 push the deadline three working days on.
    assert due_date(cal, D(2026, 9, 21), 20, paused_days=3) == D(2026, 10, 29)
    assert due_date(cal, D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert due_date(cal, D(2026, 10, 2), 0) == D(2026, 10, 8)
    with pytest.raises(ValueError):
        due_date(cal, D(2026, 9, 21), -1)


@pytest.mark.parametrize(
    "today, done, expected",
    [
        (D(2026, 10, 27), False, OVERDUE),
        (D(2026, 11, 30), False, OVERDUE),
        (D(2026, 10, 26), False, DUE_SOON),  # due today
        (D(2026, 10, 24), False, DUE_SOON),  # Saturday, one working day left
        (D(2026, 10, 23), False, DUE_SOON),  # one working day left
        (D(2026, 10, 22), False, ON_TIME),  # two working days left
        (D(2026, 10, 9), False, ON_TIME),
        (D(2026, 10, 27), True, ON_TIME),  # done
        (D(2026, 10, 26), True, ON_TIME),
    ],
)
def test_status_of(cal, today, done, expected):
    assert status_of(cal, D(2026, 10, 26), today, done) == expected


def test_status_of_across_a_holiday(cal):
    # Due on the first day back: during the whole holiday only one working day is left.
    assert status_of(cal, D(2026, 10, 8), D(2026, 10, 1), False) == DUE_SOON
    assert status_of(cal, D(2026, 10, 9), D(2026, 9, 30), False) == ON_TIME


def test_status_without_due_date(cal):
    assert status_of(cal, None, D(2026, 10, 26), False) == ON_TIME


# ------------------------------------------------------------------ long spans
def test_long_spans_count_back_to_the_same_number():
    cal = Calendar()
    far = cal.add_workdays(D(2004, 1, 1), 5000)
    assert cal.workdays_between(D(2004, 1, 1), far) == 5000
    for i in range(50):
        accepted = D(2026, 1, 5) + timedelta(days=i * 6)
        due = due_date(cal, accepted, 20, paused_days=i % 4)
        assert status_of(cal, due, D(2026, 6, 1), False) in (ON_TIME, DUE_SOON, OVERDUE)
    assert cal.warnings() == []
