"""Notifications: an in-app notice for each person concerned, plus an e-mail through the outbox.

Everything is added to the caller's transaction, so a notice exists exactly when the change
it reports was committed; mail delivery happens later (`notify send`).
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.core import roles as role_groups
from services.core.clock import utcnow
from services.core.transaction import atomic
from services.models import Notification, Request, Ticket, User
from services.tickets import mail

SITE = "澧县质量基础设施一站式服务平台"


def notify(session: Session, users: Iterable[User], message: str, *, request: Request | None = None,
           ticket: Ticket | None = None, email: bool = True) -> int:
    count = 0
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        session.add(Notification(user_id=user.id, request_id=request.id if request else None,
                                 ticket_id=ticket.id if ticket else None, message=message))
        if email and user.email:
            subject = f"{SITE}：{' '.join(message.split())[:60]}"
            body = f"{user.display_name or user.username}，您好：\n\n{message}\n"
            if request is not None:
                body += f"\n申请编号：{request.number}\n"
            body += "\n请登录平台查看详情。本邮件由系统自动发送，请勿直接回复。\n"
            mail.enqueue(session, user.email, subject, body)
        count += 1
    return count


def enterprise_users(session: Session, request: Request) -> list[User]:
    return list(session.scalars(select(User).where(User.enterprise_id == request.enterprise_id,
                                                   User.active.is_(True))))


def bureau_staff(session: Session, bureau_id: int, roles: tuple[str, ...] = role_groups.BUREAU_STAFF) -> list[User]:
    return list(session.scalars(select(User).where(User.bureau_id == bureau_id, User.role.in_(roles),
                                                   User.active.is_(True))))


def supervisors(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == role_groups.SUPERVISOR, User.active.is_(True))))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user.id,
                                                                     Notification.read_at.is_(None))) or 0


def recent(session: Session, user: User, limit: int = 50) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id.desc()).limit(limit)))


def mark_all_read(session: Session, user: User) -> None:
    with atomic(session):
        session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                        .values(read_at=utcnow()))
