"""Ticket statuses, the table-driven state machine of ticket actions, and the status of a request
derived from its tickets."""
from __future__ import annotations

from dataclasses import dataclass

from services.core.roles import COUNTY_WIDE, ENTERPRISE, LEADS, STAFF
from services.core.statuses import (  # noqa: F401 - the statuses, re-exported for the workflow's users
    ACCEPTED,
    CLOSED,
    COMPLETED,
    IN_PROGRESS,
    LABELS,
    NEED_INFO,
    OPEN,
    OPEN_WORK,
    REJECTED,
    RETURNED,
    SUBMITTED,
    TRANSFERRED,
    WITHDRAWN,
    label,
    request_status,
)
from services.core.texts import N_

# --------------------------------------------------------------------------- the state machine
HANDLERS = STAFF
SUPERVISORS = COUNTY_WIDE


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
# The enterprise's own action on a ticket (see services.requests.submission.provide_info).
PROVIDE_INFO = Action("provide_info", N_("补正材料"), frozenset({NEED_INFO}), IN_PROGRESS, (ENTERPRISE,))


def allowed_actions(status: str, role: str) -> list[Action]:
    return [a for a in ACTIONS.values() if status in a.sources and role in a.roles]
