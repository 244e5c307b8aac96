"""Ticket and request statuses and the sets the rules speak of. Imported, never retyped."""
from __future__ import annotations

from typing import Iterable

from services.core.texts import N_

SUBMITTED = "submitted"
ACCEPTED = "accepted"
IN_PROGRESS = "in_progress"
NEED_INFO = "need_info"
COMPLETED = "completed"
REJECTED = "rejected"
RETURNED = "returned"
TRANSFERRED = "transferred"
WITHDRAWN = "withdrawn"

#: Every status, in the order of a ticket's life: the order sets are listed in (see `ordered`).
ALL = (SUBMITTED, ACCEPTED, IN_PROGRESS, NEED_INFO, COMPLETED, REJECTED, RETURNED, TRANSFERRED, WITHDRAWN)

LABELS = {
    SUBMITTED: N_("已提交，待签收"),
    ACCEPTED: N_("已受理"),
    IN_PROGRESS: N_("办理中"),
    NEED_INFO: N_("待补正材料"),
    COMPLETED: N_("已办结"),
    REJECTED: N_("不予受理"),
    RETURNED: N_("已退回联席办"),
    TRANSFERRED: N_("已转办"),
    WITHDRAWN: N_("已撤回"),
}
#: Finished for good: 办结, 不予受理, 撤回.
CLOSED = frozenset({COMPLETED, REJECTED, WITHDRAWN})
#: Not finished yet (the clock may be stopped, as in NEED_INFO).
OPEN = frozenset({SUBMITTED, ACCEPTED, IN_PROGRESS, NEED_INFO, RETURNED})
#: Open with a running clock: what a deadline, an overdue list or 督办 looks at.
RUNNING = frozenset({SUBMITTED, ACCEPTED, IN_PROGRESS, RETURNED})
#: Waiting for a bureau to accept it (the acceptance deadline applies).
AWAITING_ACCEPTANCE = frozenset({SUBMITTED, RETURNED})
#: Accepted and being worked on (the handling deadline applies).
HANDLING = frozenset({ACCEPTED, IN_PROGRESS})
#: Accepted and not finished: co-handling happens here.
OPEN_WORK = frozenset({ACCEPTED, IN_PROGRESS, NEED_INFO})


def ordered(statuses: Iterable[str]) -> tuple[str, ...]:
    """A set of statuses as a tuple in the order of `ALL`: the same list (and the same SQL text)
    in every process, whatever the set's iteration order."""
    chosen = set(statuses)
    return tuple(s for s in ALL if s in chosen)


def label(status: str) -> str:
    return LABELS.get(status, status)


def request_status(ticket_statuses: Iterable[str]) -> str:
    """One word for a whole request: the most pressing state among its tickets."""
    statuses = list(ticket_statuses)
    if not statuses:
        return SUBMITTED
    if all(s == WITHDRAWN for s in statuses):
        return WITHDRAWN
    if NEED_INFO in statuses:
        return NEED_INFO
    if all(s in CLOSED for s in statuses):
        return COMPLETED if COMPLETED in statuses else REJECTED
    if all(s == SUBMITTED for s in statuses if s not in CLOSED):
        return SUBMITTED
    return IN_PROGRESS
