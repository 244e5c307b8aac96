"""Ticket statuses, the table-driven state machine of ticket actions, and the status of a request
derived from its tickets."""
from __future__ import annotations

from dataclasses import dataclass

from services.core.roles import COUNTY_WIDE, ENTERPRISES, LEADS, STAFF
from services.core.statuses import (  # noqa: F401 - the statuses, re-exported for the workflow's users
    ACCEPTED,
    AWAITING_ACCEPTANCE,
    CLOSED,
    COMPLETED,
    HANDLING,
    IN_PROGRESS,
    LABELS,
    NEED_INFO,
    OPEN,
    OPEN_WORK,
    REJECTED,
    RETURNED,
    RUNNING,
    SUBMITTED,
    TRANSFERRED,
    WITHDRAWN,
    label,
    ordered,
    request_status,
)
from services.core.texts import N_

# --------------------------------------------------------------------------- the state machine
HANDLERS = STAFF
SUPERVISORS = COUNTY_WIDE


@dataclass(frozen=True)
class Action:
    """One row of the transition table: everything an action does is read from here.

    `sources` are the statuses it may start from; it moves the ticket to `target` (None: the
    status stays) unless `moves` names another target for that source. `effects` and `notices`
    are names of the functions registered in services.tickets.actions (EFFECTS, NOTICES), run in
    this order after the checks; the effects may write the history line's text.
    """

    name: str
    label: str
    sources: frozenset[str]
    target: str | None          # None: the status stays as it is
    roles: tuple[str, ...]
    needs_message: bool = False
    public: bool = True         # shown to the enterprise on its request page
    needs_bureau: bool = False  # transfer / co-handle name another bureau
    moves: tuple[tuple[str, str], ...] = ()   # (source, target) where the target differs from `target`
    effects: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    kind: str = ""              # the history line's kind; the action's name when empty
    prompt: str = N_("请填写内容")  # what a missing message asks for
    refused: str = ""           # why the current status refuses it; empty: "status X cannot do Y"
    forbidden: str = ""         # why another role is refused; empty: services.policy.check_action's words

    def target_for(self, status: str) -> str:
        """The status this action leaves a ticket in that is now `status`."""
        return dict(self.moves).get(status) or self.target or status

    @property
    def event_kind(self) -> str:
        return self.kind or self.name


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("accept", N_("签收受理"), frozenset({SUBMITTED}), ACCEPTED, HANDLERS,
           effects=("assign_to_actor", "start_clock"), notices=("to_enterprise",)),
    Action("start", N_("开始办理"), frozenset({ACCEPTED}), IN_PROGRESS, HANDLERS, notices=("to_enterprise",)),
    Action("request_info", N_("要求补正"), HANDLING, NEED_INFO, HANDLERS, needs_message=True,
           prompt=N_("请一次性列明需要补正的全部材料"), effects=("stop_clock",), notices=("to_enterprise",)),
    Action("reply", N_("答复企业"), OPEN_WORK, None, HANDLERS, needs_message=True,
           moves=((ACCEPTED, IN_PROGRESS),), notices=("to_enterprise",)),
    Action("note", N_("内部备注"), OPEN | {COMPLETED, REJECTED}, None, HANDLERS, needs_message=True,
           public=False),
    Action("complete", N_("办结"), HANDLING, COMPLETED, HANDLERS, needs_message=True,
           prompt=N_("请填写办结结果"), effects=("close",), notices=("to_enterprise",)),
    Action("reject", N_("不予受理"), frozenset({SUBMITTED, ACCEPTED}), REJECTED, HANDLERS, needs_message=True,
           prompt=N_("不予受理必须说明理由"), effects=("close",), notices=("to_enterprise",)),
    Action("return", N_("退回联席办"), frozenset({SUBMITTED, ACCEPTED, IN_PROGRESS}), RETURNED, HANDLERS,
           needs_message=True, prompt=N_("退回必须说明理由"), effects=("move_to_joint_office",),
           notices=("to_enterprise", "to_new_holder")),
    Action("transfer", N_("转办"), RUNNING, SUBMITTED, LEADS, needs_message=True, needs_bureau=True,
           prompt=N_("转办必须说明理由"), effects=("transfer",), notices=("to_new_holder",)),
    Action("co_handle", N_("请求协办"), OPEN_WORK, None, LEADS, needs_message=True, public=False, needs_bureau=True,
           effects=("add_co_handler",), notices=("to_co_handler",)),
    Action("co_reply", N_("协办意见"), OPEN_WORK, None, HANDLERS, needs_message=True, public=False,
           effects=("end_co_handling",)),
    Action("supervise", N_("督办"), OPEN, None, SUPERVISORS, needs_message=True, public=False,
           effects=("supervise",), notices=("to_leads",)),
)}
# The enterprise's own action on a ticket: its answer to a 补正 notice
# (services.requests.actions.provide_info). A message or files, checked there.
PROVIDE_INFO = Action("provide_info", N_("补正材料"), frozenset({NEED_INFO}), IN_PROGRESS, ENTERPRISES,
                      kind="info_provided", effects=("resume_clock",), notices=("to_holder",),
                      refused=N_("该办件当前不需要补正材料"), forbidden=N_("只有提交申请的企业可以补正材料"))
#: Every row: the staff's actions and the enterprise's.
ROWS: tuple[Action, ...] = (*ACTIONS.values(), PROVIDE_INFO)


def allowed_actions(status: str, role: str) -> list[Action]:
    return [a for a in ACTIONS.values() if status in a.sources and role in a.roles]
