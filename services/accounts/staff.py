"""Admin console: staff accounts (办件人员, 部门负责人, 联席办督办, 管理员) — creating them with the
same checks as `user create`, changing role, bureau, name and e-mail, deactivating and
reactivating, and setting a new password. The last active admin cannot be demoted or
deactivated, nor can an admin demote or deactivate themselves.

Every change writes an AuditLog row in the same transaction (services.audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.accounts import users as accounts
from services.audit import NOTE_PASSWORD_RESET, audit
from services.catalog.bureaus import get_bureau
from services.catalog.problems import TOO_LONG
from services.core import roles
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_, Text
from services.core.transaction import atomic
from services.models import Bureau, User

ROLE_LABELS: dict[str, str] = roles.LABELS  # msgids
CHOOSE_ROLE = N_("请选择角色：办件人员、部门负责人、联席办督办或管理员")
STAFF_ROLES = User.STAFF_ROLES


@dataclass
class StaffInput:
    username: str = ""
    role: str = ""
    bureau: str = ""
    display_name: str = ""
    email: str = ""
    password: str = ""


@dataclass
class StaffChange:
    role: str = ""
    bureau: str = ""
    display_name: str = ""
    email: str = ""


def _user_record(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "bureau": user.bureau.code if user.bureau else "",
        "display_name": user.display_name,
        "email": user.email,
        "active": user.active,
    }


def list_users(
    session: Session,
    role: str | None = None,
    bureau: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[User]:
    stmt = (
        select(User)
        .options(selectinload(User.bureau), selectinload(User.enterprise))
        .order_by(User.role, User.username)
    )
    if role:
        if role not in User.ROLES:
            raise ValidationFailed({"role": Text(N_("未知的角色"))})
        stmt = stmt.where(User.role == role)
    if bureau:
        stmt = stmt.where(User.bureau_id == get_bureau(session, bureau).id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(User.username.ilike(like) | User.display_name.ilike(like) | User.email.ilike(like))
    return list(session.scalars(stmt))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(Text(N_("没有这个账号")))
    return user


def create_staff(session: Session, actor: User, data: StaffInput) -> User:
    """A staff account (办件人员, 部门负责人, 联席办督办 or 管理员) with the same checks as `user create`."""
    if data.role not in STAFF_ROLES:
        raise ValidationFailed({"role": Text(CHOOSE_ROLE)})
    username = (data.username or "").strip()
    bureau = (data.bureau or "").strip()
    if data.role == "supervisor" and not bureau:
        bureau = (
            session.scalar(
                select(Bureau.code).where(Bureau.joint_office.is_(True)).order_by(Bureau.id).limit(1)
            )
            or ""
        )
    # The audit row goes first: accounts.create_user's commit carries it with the account, and a
    # refusal rolls both back.
    with atomic(session):
        audit(
            session,
            actor,
            "create",
            "user",
            username,
            after={
                "username": username,
                "role": data.role,
                "bureau": bureau,
                "display_name": (data.display_name or "").strip() or username,
                "email": (data.email or "").strip(),
            },
        )
        return accounts.create_user(
            session,
            username,
            data.role,
            data.password or "",
            bureau=bureau or None,
            email=data.email or None,
            display_name=(data.display_name or "").strip() or None,
        )


def _active_admins(session: Session, exclude: User | None = None) -> int:
    stmt = select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
    if exclude is not None:
        stmt = stmt.where(User.id != exclude.id)
    return session.scalar(stmt) or 0


def update_staff(session: Session, actor: User, user_id: int, data: StaffChange) -> User:
    """Change a staff account's role, bureau, name and e-mail."""
    user = get_user(session, user_id)
    if user.role == "enterprise":
        raise Conflict(Text(N_("企业账号随企业注册产生，角色和单位不能在此修改")))
    fields: dict[str, str] = {}
    role = data.role
    if role not in STAFF_ROLES:
        fields["role"] = Text(CHOOSE_ROLE)
    bureau = None
    if data.bureau:
        bureau = session.scalar(select(Bureau).where(Bureau.code == data.bureau))
        if bureau is None:
            fields["bureau"] = Text(N_("未知的单位编码 %(code)s"), code=data.bureau)
    elif role in ("handler", "lead"):
        fields["bureau"] = Text(N_("办件人员和部门负责人必须指定所属单位"))
    if role == "supervisor" and bureau is None and "bureau" not in fields:
        bureau = session.scalar(
            select(Bureau).where(Bureau.joint_office.is_(True)).order_by(Bureau.id).limit(1)
        )
    if user.role == "admin" and role != "admin" and "role" not in fields:
        if user.id == actor.id:
            fields["role"] = Text(N_("不能取消自己的管理员角色，请让另一位管理员操作"))
        elif user.active and not _active_admins(session, exclude=user):
            fields["role"] = Text(N_("这是唯一在用的管理员账号，不能改为其他角色"))
    display_name = (data.display_name or "").strip()
    if len(display_name) > 100:
        fields["display_name"] = Text(TOO_LONG, max=100)
    email = accounts.normalise_email(data.email or "", fields, required=False)
    if fields:
        raise ValidationFailed(fields)
    before = _user_record(user)
    user.role, user.bureau = role, bureau
    user.display_name = display_name or user.username
    user.email = email
    after = _user_record(user)
    if before == after:
        return user
    with atomic(session):
        audit(session, actor, "update", "user", user.username, before=before, after=after)
    return user


def set_user_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (cannot log in, API tokens stop working) or reactivate an account."""
    user = get_user(session, user_id)
    if user.active == active:
        return user
    if not active:
        if user.id == actor.id:
            raise Conflict(Text(N_("不能停用自己的账号")))
        if user.role == "admin" and not _active_admins(session, exclude=user):
            raise Conflict(Text(N_("这是唯一在用的管理员账号，不能停用")))
    with atomic(session):
        user.active = active
        if active:
            user.failed_logins, user.locked_until = 0, None
        audit(
            session,
            actor,
            "activate" if active else "deactivate",
            "user",
            user.username,
            before={"active": not active},
            after={"active": active},
        )
    return user


def reset_password(session: Session, actor: User, user_id: int, password: str) -> User:
    """The admin sets a new password (same rules as everywhere); the lock is lifted."""
    user = get_user(session, user_id)
    fields: dict[str, str] = {}
    accounts.check_password(password or "", username=user.username, fields=fields)
    if fields:
        raise ValidationFailed(fields)
    with atomic(session):
        user.password_hash = accounts.hash_password(password)
        user.failed_logins, user.locked_until = 0, None
        audit(session, actor, "reset_password", "user", user.username, note=NOTE_PASSWORD_RESET)
    return user

