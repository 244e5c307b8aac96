"""政务公开: the public performance page's figures — per bureau and per service, the tickets
submitted in one year (up to today): received, completed, on-time rate, average handling
working days, satisfaction. Aggregates over catalog entries only: never an enterprise, a
request or a ticket number. The figures are those of ``services.stats.reports``. No Flask imports.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from services.core.clock import local_today, utcnow
from services.core.errors import ValidationFailed
from services.stats.cache import CACHE_FORMAT, CACHE_MIN_COMPUTE, cached
from services.stats.filters import StatsFilter
from services.stats.metrics import Metrics, bureau_rows, grouped, numbers_for, reporting_settings, service_rows
from services.tickets import workdays

PUBLIC_YEARS = 5          # the public page offers this year and the four before


@dataclass(frozen=True)
class PerformanceRow:
    """Public figures of one bureau or service: no enterprise data."""

    name: str
    bureau: str
    received: int
    completed: int
    on_time_rate: float | None
    avg_handling_days: float | None
    satisfaction: float | None
    rated: int


@dataclass(frozen=True)
class PublicPerformance:
    year: int
    date_from: date
    date_to: date
    totals: PerformanceRow
    bureaus: tuple[PerformanceRow, ...]
    services: tuple[PerformanceRow, ...]
    years: tuple[int, ...]
    computed_at: datetime | None = None     # when the figures were computed (UTC)


def _public_row(name: str, bureau: str, m: Metrics) -> PerformanceRow:
    return PerformanceRow(name, bureau, m.received, m.completed, m.on_time_rate, m.avg_handling_days,
                          m.satisfaction, m.rated)


def public_years(today: date | None = None) -> tuple[int, ...]:
    today = today or local_today()
    return tuple(range(today.year, today.year - PUBLIC_YEARS, -1))


def parse_year(raw: str | int | None, today: date | None = None) -> int:
    """The year of the public page: this year by default, else one of ``public_years``."""
    years = public_years(today)
    text = str(raw if raw is not None else "").strip()
    if not text:
        return years[0]
    if not text.isdigit() or int(text) not in years:
        raise ValidationFailed({"year": f"年份应为 {years[-1]} 至 {years[0]} 年之间"},
                               f"年份应为 {years[-1]} 至 {years[0]} 年之间")
    return int(text)


def public_performance(session: Session, year: str | int | None = None, *, today: date | None = None,
                       calendar: workdays.Calendar | None = None, cache_seconds: float = 0,
                       refresh: bool = False, cache_min_compute: float = CACHE_MIN_COMPUTE) -> PublicPerformance:
    """政务公开: per bureau and per service, the tickets submitted in ``year`` (up to today):
    received, completed, on-time rate, average handling working days, satisfaction. Only
    aggregates over catalog entries: never an enterprise, a request or a ticket number.
    ``cache_seconds``, ``refresh`` and ``cache_min_compute`` as for ``reports.dashboard_report``."""
    today = today or local_today()
    y = parse_year(year, today)
    return cached(session, f"performance:v{CACHE_FORMAT}:{y}:{today}", cache_seconds,
                  lambda: _public_performance(session, y, today, calendar), _performance_payload,
                  _performance_from, refresh=refresh, min_compute=cache_min_compute)


def _public_performance(session: Session, y: int, today: date,
                        calendar: workdays.Calendar | None) -> PublicPerformance:
    computed_at = utcnow()
    calendar = calendar or workdays.Calendar.from_session(session)
    reporting_settings(session)
    flt = StatsFilter(date(y, 1, 1), min(date(y, 12, 31), today))
    numbers = numbers_for(flt, today, calendar)
    bureaus = bureau_rows(session, grouped(session, flt, "bureau", today, calendar, numbers))
    totals = Metrics()
    for row in bureaus:
        totals.add(row.metrics)
    services = service_rows(session, grouped(session, flt, "service", today, calendar, numbers))
    return PublicPerformance(
        year=y, date_from=flt.date_from, date_to=flt.date_to, totals=_public_row("全县合计", "", totals),
        bureaus=tuple(_public_row(b.name, b.name, b.metrics) for b in bureaus),
        services=tuple(_public_row(s.name, s.bureau, s.metrics) for s in services),
        years=public_years(today), computed_at=computed_at)


def _performance_payload(data: PublicPerformance) -> dict[str, Any]:
    """The figures in the form ``stats_cache`` keeps them (JSON)."""
    def rows(items):
        return [asdict(r) for r in items]

    return {"year": data.year, "date_from": data.date_from.isoformat(), "date_to": data.date_to.isoformat(),
            "totals": asdict(data.totals), "bureaus": rows(data.bureaus), "services": rows(data.services),
            "years": list(data.years)}


def _performance_from(data: dict[str, Any]) -> PublicPerformance:
    """The figures ``_performance_payload`` kept."""
    return PublicPerformance(
        year=data["year"], date_from=date.fromisoformat(data["date_from"]), date_to=date.fromisoformat(data["date_to"]),
        totals=PerformanceRow(**data["totals"]), bureaus=tuple(PerformanceRow(**r) for r in data["bureaus"]),
        services=tuple(PerformanceRow(**r) for r in data["services"]), years=tuple(data["years"]),
        computed_at=data["computed_at"])
