"""Ticket statuses and the status of a request derived from its tickets."""
from __future__ import annotations

from typing import Iterable

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
    SUBMITTED: "已提交，待签收",
    ACCEPTED: "已受理",
    IN_PROGRESS: "办理中",
    NEED_INFO: "待补正材料",
    COMPLETED: "已办结",
    REJECTED: "不予受理",
    RETURNED: "已退回联席办",
    TRANSFERRED: "已转办",
    WITHDRAWN: "已撤回",
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
