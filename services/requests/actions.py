"""The enterprise's actions on its request: withdrawing it before any bureau has accepted it,
and answering a 补正 notice (a message and/or files; the ticket resumes).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from services import outbox as search_sync
from services import policy
from services.core import cleantext
from services.core.clock import utcnow
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.core.transaction import atomic
from services.models import Request, TicketEvent, User
from services.requests import uploads
from services.requests.fields import MAX_DESCRIPTION
from services.requests.reading import get_request
from services.tickets import workflow


def _refresh_status(request: Request) -> None:
    request.status = workflow.request_status(t.status for t in request.tickets)


def can_withdraw(user: User, request: Request) -> bool:
    """Before any bureau has accepted it, the enterprise may take its request back."""
    open_tickets = [t for t in request.tickets if t.status not in workflow.CLOSED]
    return (policy.is_enterprise_owner(user, request) and bool(open_tickets)
            and all(t.status == workflow.SUBMITTED for t in open_tickets))


def withdraw(session: Session, user: User, number: str, reason: str = "") -> Request:
    request = get_request(session, user, number)
    policy.check_enterprise_owner(user, request, N_("只有提交申请的企业可以撤回"))
    if not can_withdraw(user, request):
        raise Conflict(_msg(N_("申请已被受理或已结束，不能再撤回；如需撤回请联系承办部门")))
    open_tickets = [t for t in request.tickets if t.status not in workflow.CLOSED]
    with atomic(session):
        for t in open_tickets:
            session.add(TicketEvent(request=request, ticket=t, actor=user, kind="withdrawn", from_status=t.status,
                                    to_status=workflow.WITHDRAWN,
                                    message=cleantext.text(reason, 500) or "企业撤回申请"))
            t.status = workflow.WITHDRAWN
            t.closed_at = t.closed_at or utcnow()
        search_sync.enqueue(session, "ticket", [t.number for t in open_tickets])
        _refresh_status(request)
    return request


def provide_info(session: Session, user: User, number: str, ticket_number: str, message: str,
                 files: list[uploads.Incoming], upload_dir: str) -> TicketEvent:
    """The enterprise answers a 补正 notice: a message and/or files; the ticket resumes. The
    change is the PROVIDE_INFO row of the ticket state machine (services.tickets.workflow)."""
    from services.tickets import actions

    request = get_request(session, user, number)
    ticket = next((t for t in request.tickets if t.number == ticket_number), None)
    if ticket is None:
        raise NotFound(_msg(N_("没有找到这个办件")))
    actions.check(user, ticket, workflow.PROVIDE_INFO)  # the enterprise's role and request, NEED_INFO
    message = cleantext.message(message)  # NUL refused, invisible characters removed
    if len(message) > MAX_DESCRIPTION:
        raise ValidationFailed({"message": _msg(N_("说明不能超过 %(max)s 个字"), max=MAX_DESCRIPTION)})
    checked = uploads.check(files, already=sum(a.size for a in request.attachments))
    if not message and not checked:
        raise ValidationFailed({"message": _msg(N_("请填写补正说明或上传补正材料"))})
    stored = uploads.store(upload_dir, checked)
    with atomic(session, on_rollback=lambda: uploads.discard(upload_dir, stored)):
        event = actions.apply(session, user, ticket, workflow.PROVIDE_INFO, message or "已上传补正材料",
                              files=stored)
    return event
