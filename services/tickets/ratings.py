"""好差评: the enterprise rates each completed ticket once (5 非常满意 … 1 非常不满意). A 差评
(1–2) opens a follow-up for the bureau lead with a deadline; once the lead has followed up,
the enterprise may rate that ticket once more."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import policy
from services.core import roles
from services.core.clock import local_today, utcnow
from services.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.core.transaction import atomic
from services.models import Rating, Ticket, TicketEvent, User
from services.requests import reading
from services.tickets import notify, workdays, workflow

LABELS = {5: N_("非常满意"), 4: N_("满意"), 3: N_("基本满意"), 2: N_("不满意"), 1: N_("非常不满意")}  # msgids
BAD = (1, 2)
FOLLOW_UP_DAYS = 5   # working days the lead has to follow up a 差评
MAX_COMMENT = 1000


def ratings_of(session: Session, ticket: Ticket) -> list[Rating]:
    return list(session.scalars(select(Rating).where(Rating.ticket_id == ticket.id).order_by(Rating.round)))


def next_round(session: Session, ticket: Ticket) -> int | None:
    """1 if not rated yet, 2 if a 差评 has been followed up and not re-rated, else None."""
    existing = ratings_of(session, ticket)
    if not existing:
        return 1
    if len(existing) == 1 and existing[0].score in BAD and existing[0].follow_up_at is not None:
        return 2
    return None


def rate(session: Session, user: User, number: str, ticket_number: str, score, comment: str = "",
         calendar: workdays.Calendar | None = None, today: date | None = None) -> Rating:
    request = reading.get_request(session, user, number)
    if not policy.is_enterprise_owner(user, request):
        raise Forbidden(_msg(N_("只有提交申请的企业可以评价")))
    ticket = next((t for t in request.tickets if t.number == ticket_number), None)
    if ticket is None:
        raise NotFound(_msg(N_("没有找到这个办件")))
    problems: dict[str, str] = {}
    if isinstance(score, bool) or not isinstance(score, (int, str)) \
            or str(score).strip() not in {"1", "2", "3", "4", "5"}:
        problems["score"] = _msg(N_("请选择 1 到 5 分"))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        problems["comment"] = _msg(N_("评价内容不能超过 %(max)s 个字"), max=MAX_COMMENT)
    if problems:
        raise ValidationFailed(problems)
    score = int(str(score).strip())
    if ticket.status != workflow.COMPLETED:
        raise Conflict(_msg(N_("办件办结后才能评价")))
    round_ = next_round(session, ticket)
    if round_ is None:
        raise Conflict(_msg(N_("该办件已经评价过了")))
    calendar = calendar or workdays.Calendar.from_session(session)
    with atomic(session):
        rating = Rating(ticket_id=ticket.id, user_id=user.id, round=round_, score=score, comment=comment)
        if score in BAD and round_ == 1:
            rating.follow_up_due = calendar.add_workdays(today or local_today(), FOLLOW_UP_DAYS)
            notify.notify(session, notify.bureau_staff(session, ticket.bureau_id, (roles.LEAD,)),
                          f"办件 {ticket.number} 收到差评（{score} 分），"
                          f"请在 {rating.follow_up_due.isoformat()} 前回访整改",
                          request=request, ticket=ticket)
        session.add(rating)
        session.add(TicketEvent(request=request, ticket=ticket, actor=user, kind="rating", public=True,
                                message=f"评价：{score} 分（{LABELS[score]}）{('，' + comment) if comment else ''}"))
    return rating


def follow_up(session: Session, user: User, rating_id: int, note: str) -> Rating:
    """The bureau lead records the 差评 follow-up; the enterprise may then rate again."""
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise NotFound(_msg(N_("没有找到这条评价")))
    ticket = rating.ticket
    policy.check_follow_up(user, ticket)
    if rating.score not in BAD or rating.round != 1:
        raise Conflict(_msg(N_("只有首次差评需要回访")))
    if rating.follow_up_at is not None:
        raise Conflict(_msg(N_("这条差评已经回访过了")))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": _msg(N_("请填写回访和整改情况"))})
    request = ticket.request
    with atomic(session):
        rating.follow_up_note = note[:MAX_COMMENT]
        rating.follow_up_at = utcnow()
        rating.follow_up_by = user.id
        session.add(TicketEvent(request=request, ticket=ticket, actor=user, kind="follow_up", public=True,
                                message=f"差评回访：{rating.follow_up_note}"))
        notify.notify(session, notify.enterprise_users(session, request),
                      f"{ticket.bureau.short_name}已对您的评价进行回访，您可以再评价一次",
                      request=request, ticket=ticket)
    return rating


def open_follow_ups(session: Session, user: User) -> list[Rating]:
    query = select(Rating).join(Ticket, Rating.ticket_id == Ticket.id).where(
        Rating.round == 1, Rating.score.in_(BAD), Rating.follow_up_at.is_(None))
    return list(session.scalars(query.where(policy.follow_ups_clause(user)).order_by(Rating.follow_up_due)))
