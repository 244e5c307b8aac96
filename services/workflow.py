"""Ticket statuses, the table-driven state machine of ticket actions, and the status of a request
derived from its tickets."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

def N_(text: str) -> str:
    """Marks a label for translation (the web layer translates it when showing it)."""
    return text


SUBMITTED = "submitted"
ACCEPTED = "accepted"
IN_PROGRESS = "in_progress"
NEED_INFO = "need_info"
COMPLETED = "completed"
REJECTED = "rejected"
RETURNED = "returned"
TRANSFERRED = "transferred"
WITHDRAWN = "withdrawn"

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
CLOSED = {COMPLETED, REJECTED, WITHDRAWN}


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


# --------------------------------------------------------------------------- the state machine
HANDLERS = ("handler", "lead", "supervisor", "admin")
LEADS = ("lead", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
OPEN_WORK = frozenset({ACCEPTED, IN_PROGRESS, NEED_INFO})


@dataclass(frozen=True)
class Action:
    """One row of the transition table."""

    name: str
    label: str
    sources: frozenset[str]
    target: str | None          # None: the status stays as it is
    roles: tuple[str, ...]
    needs_message: bool = False
    public: bool = True         # shown to the enterprise on its request page
    needs_bureau: bool = False  # transfer / co-handle name another bureau


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("accept", N_("签收受理"), frozenset({SUBMITTED}), ACCEPTED, HANDLERS),
    Action("start", N_("开始办理"), frozenset({ACCEPTED}), IN_PROGRESS, HANDLERS),
    Action("request_info", N_("要求补正"), frozenset({ACCEPTED, IN_PROGRESS}), NEED_INFO, HANDLERS, needs_message=True),
    Action("reply", N_("答复企业"), frozenset({ACCEPTED, IN_PROGRESS, NEED_INFO}), None, HANDLERS, needs_message=True),
    Action("note", N_("内部备注"), frozenset({SUBMITTED, ACCEPTED, IN_PROGRESS, NEED_INFO, RETURNED, COMPLETED, REJECTED}),
           None, HANDLERS, needs_message=True, public=False),
    Action("complete", N_("办结"), frozenset({ACCEPTED, IN_PROGRESS}), COMPLETED, HANDLERS, needs_message=True),
    Action("reject", N_("不予受理"), frozenset({SUBMITTED, ACCEPTED}), REJECTED, HANDLERS, needs_message=True),
    Action("return", N_("退回联席办"), frozenset({SUBMITTED, ACCEPTED, IN_PROGRESS}), RETURNED, HANDLERS,
           needs_message=True),
    Action("transfer", N_("转办"), frozenset({SUBMITTED, ACCEPTED, IN_PROGRESS, RETURNED}), SUBMITTED, LEADS,
           needs_message=True, needs_bureau=True),
    Action("co_handle", N_("请求协办"), OPEN_WORK, None, LEADS, needs_message=True, public=False, needs_bureau=True),
    Action("co_reply", N_("协办意见"), OPEN_WORK, None, HANDLERS, needs_message=True, public=False),
    Action("supervise", N_("督办"), frozenset({SUBMITTED, ACCEPTED, IN_PROGRESS, NEED_INFO, RETURNED}), None,
           SUPERVISORS, needs_message=True, public=False),
)}
# The enterprise's own action on a ticket (see services.requests.provide_info).
PROVIDE_INFO = Action("provide_info", N_("补正材料"), frozenset({NEED_INFO}), IN_PROGRESS, ("enterprise",))


def allowed_actions(status: str, role: str) -> list[Action]:
    return [a for a in ACTIONS.values() if status in a.sources and role in a.roles]
