"""Deadlines of a ticket on the official calendar: the acceptance deadline (签收), each requested
service's own handling deadline (its promised working days from acceptance), and the 补正 clock
stop with the date the enterprise has to answer by.

The ticket's `due_date` is the earliest of its services' dates: the queue orders by it, 督办 and
the statistics count the ticket overdue once any of its services is past its own date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.core import statuses
from services.core.clock import local_date, local_today
from services.models import RequestItem, Ticket
from services.tickets import workdays

ACCEPT_WITHIN_DAYS = 2          # 签收 within 2 working days of submission
TRIAGE_TIME_LIMIT_DAYS = 5      # a free-text need at the joint office
INFO_ANSWER_WITHIN_DAYS = 15    # the enterprise answers a 补正 notice within 15 working days


def accept_due_for(calendar: workdays.Calendar, submitted: date) -> date:
    return calendar.add_workdays(submitted, ACCEPT_WITHIN_DAYS)


def refresh_due_date(calendar: workdays.Calendar, ticket: Ticket) -> None:
    """Each service's date from acceptance, its promised days and the days the clock stood still;
    the ticket's is the earliest of them."""
    if ticket.accepted_at is None:
        return
    accepted = local_date(ticket.accepted_at)
    if not ticket.items:
        ticket.due_date = workdays.due_date(calendar, accepted, TRIAGE_TIME_LIMIT_DAYS, ticket.paused_days)
        return
    for item in ticket.items:
        item.due_date = workdays.due_date(calendar, accepted, item.service.time_limit_days, ticket.paused_days)
    ticket.due_date = min(i.due_date for i in ticket.items if i.due_date is not None)


def clear(ticket: Ticket) -> None:
    """No handling clock (a transferred ticket starts afresh at its new bureau)."""
    ticket.accepted_at = None
    ticket.due_date = None
    ticket.paused_at = None
    ticket.paused_days = 0
    ticket.info_due = None
    for item in ticket.items:
        item.due_date = None


def due_state(calendar: workdays.Calendar, ticket: Ticket, today: date | None = None) -> str:
    """overdue / due_soon / on_time for the deadline that applies now (acceptance, then handling)."""
    today = today or local_today()
    if ticket.status in statuses.CLOSED or ticket.status == statuses.NEED_INFO:
        return "on_time"  # closed, or the clock is stopped
    due = ticket.accept_due if ticket.status in statuses.AWAITING_ACCEPTANCE else ticket.due_date
    return workdays.status_of(calendar, due, today, done=False)


def item_due_state(calendar: workdays.Calendar, ticket: Ticket, item: RequestItem,
                   today: date | None = None) -> str:
    """The same answer for one service of the ticket, against its own date."""
    if ticket.status in statuses.CLOSED or ticket.status == statuses.NEED_INFO \
            or ticket.status in statuses.AWAITING_ACCEPTANCE:
        return "on_time"
    return workdays.status_of(calendar, item.due_date or ticket.due_date, today or local_today(), done=False)


def stop(calendar: workdays.Calendar, ticket: Ticket, day: date, now_utc) -> None:
    """补正 asked for: the clock stops; the enterprise answers within INFO_ANSWER_WITHIN_DAYS."""
    ticket.paused_at = now_utc
    ticket.info_due = calendar.add_workdays(day, INFO_ANSWER_WITHIN_DAYS)


def resume(calendar: workdays.Calendar, ticket: Ticket, today: date | None = None) -> None:
    """The enterprise answered a 补正 notice: the working days it took extend the deadlines."""
    if ticket.paused_at is not None:
        ticket.paused_days += calendar.workdays_between(local_date(ticket.paused_at), today or local_today())
        ticket.paused_at = None
    ticket.info_due = None
    refresh_due_date(calendar, ticket)


@dataclass(frozen=True)
class Pause:
    """A stopped clock as the enterprise and the handler read it."""

    since: date              # the day 补正 was asked for
    answer_by: date | None   # the day the enterprise should answer by
    answer_late: bool        # that day has passed
    days_left: int | None    # working days of the handling time left when the clock restarts
    due_if_answered_today: date | None


def pause_of(calendar: workdays.Calendar, ticket: Ticket, today: date | None = None) -> Pause | None:
    """How the clock stands while a ticket waits for 补正 (None when it is running)."""
    if ticket.status != statuses.NEED_INFO or ticket.paused_at is None:
        return None
    today = today or local_today()
    since = local_date(ticket.paused_at)
    days_left = due_today = None
    if ticket.due_date is not None and ticket.accepted_at is not None:
        days_left = calendar.workdays_between(since, ticket.due_date)
        shortest = min((i.service.time_limit_days for i in ticket.items), default=TRIAGE_TIME_LIMIT_DAYS)
        due_today = workdays.due_date(calendar, local_date(ticket.accepted_at), shortest,
                                      ticket.paused_days + calendar.workdays_between(since, today))
    return Pause(since=since, answer_by=ticket.info_due, answer_late=bool(ticket.info_due and today > ticket.info_due),
                 days_left=days_left, due_if_answered_today=due_today)
