"""Accounts: enterprise registration, staff accounts, login with throttling, password reset
tokens, profile changes and API tokens. The pages, the API and the CLI all come through here."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from services.accounts import reference, uscc
from services.core import cleantext, roles
from services.core.clock import utcnow
from services.core.errors import NotFound, ServiceError, ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.core.transaction import atomic
from services.models import ApiToken, Bureau, Enterprise, User
from services.tickets import mail

# werkzeug's scrypt; the test suite swaps in a cheap method to stay fast.
HASH_METHOD = "scrypt"
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
RESET_MAX_AGE = 3600  # seconds a password-reset link stays valid
TOKEN_PREFIX = "lxq_"

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
COMMON_PASSWORDS = {"12345678", "123456789", "password", "password1", "qwerty123", "11111111", "abc12345",
                    "a1234567", "admin123", "88888888", "woaini1314", "1qaz2wsx", "zxcvbnm123"}


USERNAME_RULE = N_("用户名 3–64 位，只能包含字母、数字、点、下划线和连字符")
USERNAME_TAKEN = N_("该用户名已被使用")
USCC_TAKEN = N_("该统一社会信用代码已注册，请直接登录；如忘记密码，请用“找回密码”重设。")

# The password rule: check_password enforces it and the forms' hint is password_rule(), so the
# hint can never promise less than is checked.
PASSWORD_MIN = 8
PASSWORD_MAX = 128
PASSWORD_RULE = N_("%(min)s–%(max)s 位，须同时包含字母和数字；不能用常见密码（如 12345678、abc12345、password1），"
                   "也不能包含登录账号")


class LoginRefused(ServiceError):
    status = 401
    code = "login_failed"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


# --------------------------------------------------------------------------- field checks
def _text(value: object, limit: int) -> str:
    """A single-line name as stored: see services.core.cleantext.name."""
    return cleantext.name(value, limit)


def password_rule() -> str:
    """The password rule in words (a Text), as the forms show it next to the password field."""
    return _msg(PASSWORD_RULE, min=PASSWORD_MIN, max=PASSWORD_MAX)


def check_password(password: str, *, username: str = "", fields: dict[str, str], key: str = "password") -> None:
    """Put what is wrong with `password` under `key`: exactly the rule password_rule() states."""
    password = password or ""
    # The two texts name PASSWORD_MIN and PASSWORD_MAX (tests/accounts/test_all_errors.py checks they agree).
    if len(password) < PASSWORD_MIN:
        fields[key] = _msg(N_("密码至少 8 位"))
    elif len(password) > PASSWORD_MAX:
        fields[key] = _msg(N_("密码不能超过 128 位"))
    elif not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        fields[key] = _msg(N_("密码需同时包含字母和数字"))
    elif password.lower() in COMMON_PASSWORDS:
        fields[key] = _msg(N_("这是常见密码，很容易被猜到，请换一个"))
    elif username and username.lower() in password.lower():
        fields[key] = _msg(N_("密码不能包含登录账号"))


def normalise_email(value: str, fields: dict[str, str], key: str = "email", required: bool = True) -> str:
    value = cleantext.ascii_form(value).strip()
    if not value:
        if required:
            fields[key] = _msg(N_("请填写电子邮箱"))
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        fields[key] = _msg(N_("电子邮箱格式不正确"))
        return value


def normalise_mobile(value: str, fields: dict[str, str], key: str = "mobile") -> str:
    value = re.sub(r"[\s-]", "", cleantext.ascii_form(value))  # full-width digits to ASCII
    if value.startswith("+86"):
        value = value[3:]
    if not MOBILE_RE.match(value):
        fields[key] = _msg(N_("请填写 11 位手机号码"))
    return value


def normalise_uscc(value: str, fields: dict[str, str], key: str = "uscc") -> str:
    try:
        return uscc.validate(value)
    except uscc.InvalidUSCC as exc:
        fields[key] = exc.message
        return uscc.normalise(value)


# --------------------------------------------------------------------------- registration
@dataclass
class EnterpriseProfile:
    company: str
    uscc: str
    contact_name: str
    mobile: str
    email: str
    township: str
    industry: str
    size: str


def _check_profile(p: EnterpriseProfile, fields: dict[str, str]) -> EnterpriseProfile:
    nul = cleantext.nul_problems(vars(p))  # refused, not dropped (see services.core.cleantext)
    checked = _checked_profile(p, fields)
    fields.update(nul)
    return checked


def _checked_profile(p: EnterpriseProfile, fields: dict[str, str]) -> EnterpriseProfile:
    company = _text(p.company, 200)
    if len(company) < 2:
        fields["company"] = _msg(N_("请填写营业执照上的企业名称"))
    contact = _text(p.contact_name, 50)
    if not contact:
        fields["contact_name"] = _msg(N_("请填写联系人姓名"))
    township = _text(p.township, 50)
    if township not in reference.TOWNSHIPS:
        fields["township"] = _msg(N_("请选择所在乡镇（街道）"))
    industry = _text(p.industry, 50)
    if industry not in dict(reference.INDUSTRIES):
        fields["industry"] = _msg(N_("请选择所属行业"))
    size = _text(p.size, 20)
    if size not in dict(reference.SIZES):
        fields["size"] = _msg(N_("请选择企业规模"))
    return EnterpriseProfile(company, normalise_uscc(p.uscc, fields), contact, normalise_mobile(p.mobile, fields),
                             normalise_email(p.email, fields), township, industry, size)


def profile_problems(profile: EnterpriseProfile) -> dict[str, str]:
    """Every problem with an enterprise profile (the USCC aside), by field: nothing is written."""
    fields: dict[str, str] = {}
    _check_profile(profile, fields)
    fields.pop("uscc", None)
    return fields


def _check_registration(session: Session, profile: EnterpriseProfile, password: str, username: str | None,
                        fields: dict[str, str]) -> tuple[EnterpriseProfile, str]:
    p = _check_profile(profile, fields)
    username = (username or p.uscc).strip()
    own_code = username == p.uscc  # the login is the USCC: the enterprise never chose a user name
    if not own_code and not USERNAME_RE.match(username):
        fields["username"] = _msg(USERNAME_RULE)
    check_password(password, username=username, fields=fields)
    if "uscc" not in fields and session.scalar(select(Enterprise.id).where(Enterprise.uscc == p.uscc)):
        fields["uscc"] = _msg(USCC_TAKEN)
    key = "uscc" if own_code else "username"
    if key not in fields and username and session.scalar(
            select(User.id).where(func.lower(User.username) == username.lower())):
        fields[key] = _msg(USCC_TAKEN if own_code else USERNAME_TAKEN)
    return p, username


def registration_problems(session: Session, profile: EnterpriseProfile, password: str,
                          username: str | None = None) -> dict[str, str]:
    """Every problem register_enterprise would report, by field, without writing anything."""
    fields: dict[str, str] = {}
    _check_registration(session, profile, password, username, fields)
    return fields


def register_enterprise(session: Session, profile: EnterpriseProfile, password: str,
                        username: str | None = None) -> User:
    """Create an enterprise and its first account (login name defaults to the USCC)."""
    fields: dict[str, str] = {}
    p, username = _check_registration(session, profile, password, username, fields)
    if fields:
        raise ValidationFailed(fields)
    enterprise = Enterprise(uscc=p.uscc, name=p.company, contact_name=p.contact_name, mobile=p.mobile,
                            email=p.email, township=p.township, industry=p.industry, size=p.size)
    user = User(username=username, password_hash=hash_password(password), role="enterprise",
                display_name=p.contact_name, email=p.email, enterprise=enterprise)
    with atomic(session):
        session.add_all([enterprise, user])
    return user


def update_profile(session: Session, user: User, profile: EnterpriseProfile) -> Enterprise:
    """Change an enterprise's profile; the USCC itself cannot change."""
    if user.enterprise is None:
        raise NotFound(_msg(N_("该账号没有企业资料")))
    fields: dict[str, str] = {}
    profile.uscc = user.enterprise.uscc
    p = _check_profile(profile, fields)
    if fields:
        raise ValidationFailed(fields)
    e = user.enterprise
    with atomic(session):
        e.name, e.contact_name, e.mobile, e.email = p.company, p.contact_name, p.mobile, p.email
        e.township, e.industry, e.size = p.township, p.industry, p.size
        user.email, user.display_name = p.email, p.contact_name
    return e


def create_user(session: Session, username: str, role: str, password: str, *, bureau: str | None = None,
                uscc_code: str | None = None, company: str | None = None, email: str | None = None,
                display_name: str | None = None) -> User:
    """Accounts from the command line (and later the admin console), with the pages' checks."""
    fields: dict[str, str] = {}
    if role not in User.ROLES:
        fields["role"] = _msg(N_("角色应为 %(roles)s 之一"), roles=list(User.ROLES))
    if not USERNAME_RE.match(username or "") and not uscc.is_valid(username or ""):
        fields["username"] = _msg(USERNAME_RULE)
    elif session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        fields["username"] = _msg(USERNAME_TAKEN)
    check_password(password, username=username, fields=fields)
    email = normalise_email(email or "", fields, required=False)
    bureau_obj = None
    if role in roles.BUREAU_STAFF:
        if not bureau:
            fields["bureau"] = _msg(N_("办件人员和部门负责人必须指定所属单位（--bureau）"))
    if bureau:
        bureau_obj = session.scalar(select(Bureau).where(Bureau.code == bureau))
        if bureau_obj is None:
            fields["bureau"] = _msg(N_("未知的单位编码 %(code)s"), code=bureau)
    if role == "supervisor" and bureau_obj is None:
        bureau_obj = session.scalar(select(Bureau).where(Bureau.joint_office.is_(True)))
    enterprise = None
    if role == "enterprise":
        if not uscc_code or not company:
            fields.setdefault("uscc", _msg(N_("企业账号需要 --uscc 和 --company")))
        else:
            code = normalise_uscc(uscc_code, fields)
            if "uscc" not in fields:
                enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == code))
                if enterprise is None:
                    enterprise = Enterprise(uscc=code, name=_text(company, 200),
                                            contact_name=_text(display_name, 50) or username,
                                            mobile="", email=email, township="", industry="", size="")
    if fields:
        raise ValidationFailed(fields)
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=_text(display_name, 100) or username, email=email, bureau=bureau_obj,
                enterprise=enterprise)
    with atomic(session):
        session.add(user)
    return user


# --------------------------------------------------------------------------- login
def find_login(session: Session, login: str) -> User | None:
    """A user by login name or, for enterprises, by 统一社会信用代码."""
    login = (login or "").strip()
    if not login:
        return None
    code = uscc.normalise(login)
    return session.scalar(
        select(User).outerjoin(Enterprise, User.enterprise_id == Enterprise.id)
        .where(or_(func.lower(User.username) == login.lower(), Enterprise.uscc == code))
        .order_by(User.id).limit(1))


def authenticate(session: Session, login: str, password: str, now: datetime | None = None) -> User:
    """Check a password. Five failures in a row lock the account for 15 minutes."""
    now = now or utcnow()
    user = find_login(session, login)
    if user is None:
        check_password_hash(hash_password("x"), password or "")  # same work either way
        raise LoginRefused(_msg(N_("用户名或密码不正确")))
    locked_until = user.locked_until
    if locked_until and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise LoginRefused(_msg(N_("密码连续输错次数过多，账号已暂时锁定，请 %(minutes)s 分钟后再试或找回密码"),
                                 minutes=minutes))
    if not user.active:
        raise LoginRefused(_msg(N_("该账号已停用，请联系管理员")))
    if not check_password_hash(user.password_hash, password or ""):
        with atomic(session):  # the failure counts even though the login is refused
            user.failed_logins += 1
            locked = user.failed_logins >= MAX_FAILED_LOGINS
            if locked:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
        if locked:
            raise LoginRefused(_msg(N_("密码连续输错 %(times)s 次，账号已锁定 %(minutes)s 分钟"),
                                     times=MAX_FAILED_LOGINS, minutes=LOCK_MINUTES))
        left = MAX_FAILED_LOGINS - user.failed_logins
        raise LoginRefused(_msg(N_("用户名或密码不正确（再错 %(left)s 次将锁定 %(minutes)s 分钟）"),
                                 left=left, minutes=LOCK_MINUTES))
    with atomic(session):
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
    return user


def password_change_problems(user: User, current: str, new: str) -> dict[str, str]:
    """Every problem change_password would report, by field (current_password, new_password)."""
    fields: dict[str, str] = {}
    if not current:
        fields["current_password"] = _msg(N_("请填写当前密码"))
    elif not check_password_hash(user.password_hash, current):
        fields["current_password"] = _msg(N_("当前密码不正确"))
    check_password(new, username=user.username, fields=fields, key="new_password")
    return fields


def change_password(session: Session, user: User, current: str, new: str) -> None:
    fields = password_change_problems(user, current, new)
    if fields:
        raise ValidationFailed(fields)
    with atomic(session):
        user.password_hash = hash_password(new)


# --------------------------------------------------------------------------- password reset
def _reset_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="portal-password-reset")


def _fingerprint(user: User) -> str:
    # Changes when the password changes, so a used link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(session: Session, secret_key: str, login: str, reset_url: str) -> None:
    """Queue a reset e-mail if the account exists and has an address; say nothing either way."""
    user = find_login(session, login)
    if user is None or not user.email or not user.active:
        return
    token = _reset_serializer(secret_key).dumps({"uid": user.id, "fp": _fingerprint(user)})
    link = reset_url.replace("TOKEN", token)
    with atomic(session):
        mail.enqueue(session, user.email, "澧县质量基础设施一站式服务平台：重设密码",
                     f"{user.display_name or user.username}，您好：\n\n"
                     f"请在 1 小时内打开下面的链接重设密码：\n{link}\n\n"
                     "如果不是您本人操作，请忽略本邮件，您的密码不会改变。\n")


def _reset_user(session: Session, secret_key: str, token: str) -> User:
    """The account a reset link is for; ServiceError when the link is expired, invalid or used."""
    try:
        data = _reset_serializer(secret_key).loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired:
        raise ServiceError(_msg(N_("重设密码链接已过期，请重新申请"))) from None
    except BadSignature:
        raise ServiceError(_msg(N_("重设密码链接无效，请重新申请"))) from None
    user = session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or data.get("fp") != _fingerprint(user):
        raise ServiceError(_msg(N_("重设密码链接已使用过或无效，请重新申请")))
    return user


def reset_problems(session: Session, secret_key: str, token: str, new_password: str) -> dict[str, str]:
    """What is wrong with the new password for this reset link (ServiceError for a bad link)."""
    fields: dict[str, str] = {}
    check_password(new_password, username=_reset_user(session, secret_key, token).username, fields=fields)
    return fields


def reset_password(session: Session, secret_key: str, token: str, new_password: str) -> User:
    user = _reset_user(session, secret_key, token)
    fields = reset_problems(session, secret_key, token, new_password)
    if fields:
        raise ValidationFailed(fields)
    with atomic(session):
        user.password_hash = hash_password(new_password)
        user.failed_logins = 0
        user.locked_until = None
    return user


# --------------------------------------------------------------------------- API tokens
def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str = "") -> str:
    """Create a token and return it in clear text — the only time it is shown."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with atomic(session):
        session.add(ApiToken(user=user, token_hash=_hash_token(token), prefix=token[:10], name=_text(name, 100)))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token),
                                                ApiToken.revoked_at.is_(None))
                         .options(joinedload(ApiToken.user)))
    if row is None or not row.user.active:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is None or now - last > timedelta(minutes=5):
        with atomic(session):
            row.last_used_at = now
    return row.user


def revoke_token(session: Session, user: User, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_msg(N_("没有这个令牌")))
    with atomic(session):
        row.revoked_at = row.revoked_at or utcnow()


def active_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                .order_by(ApiToken.id.desc())))


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == (username or "").lower()))
    if user is None:
        raise NotFound(_msg(N_("没有用户 %(username)s"), username=username))
    return user
