"""Access marks and checks on view functions.

Every endpoint must say who may call it: `@public` for pages anyone may open,
`@login_required(roles)` for pages behind a login, `@token_required(roles)` for API calls
behind a bearer token. tests/test_access.py walks `app.url_map` and fails for any endpoint
without a mark, so a new route cannot be left open by accident. The checks here are the
coarse gate; services check ownership and bureau scope again.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable, Iterable, TypeVar

from flask import abort, g, request
from flask_login import current_user

from services.core import roles

F = TypeVar("F", bound=Callable)

ACCESS_ATTR = "_portal_access"
# The role groups of services.core.roles the views' marks use most.
ENTERPRISE = roles.ENTERPRISES
STAFF = roles.STAFF


def public(view: F) -> F:
    """Anyone, logged in or not, may call this endpoint."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def access_of(view: Callable) -> str | None:
    return getattr(view, ACCESS_ATTR, None)


def login_required(roles: Iterable[str] | None = None) -> Callable[[F], F]:
    """Pages: anonymous users go to the login page; users of another role get 403."""
    allowed = tuple(roles) if roles else None

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            from portal.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if allowed and current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, "login:" + ",".join(allowed or ("any",)))
        return wrapper  # type: ignore[return-value]

    return decorate


def token_required(roles: Iterable[str] | None = None) -> Callable[[F], F]:
    """API: `Authorization: Bearer <token>`; 401 without a valid token, 403 for another role."""
    allowed = tuple(roles) if roles else None

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            from portal.errors import api_error
            from portal.extensions import db
            from services.accounts import users as accounts

            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            user = accounts.user_for_token(db.session, token) if token else None
            if user is None:
                return api_error(401, "unauthorized", "需要有效的 API 令牌（Authorization: Bearer <token>）")
            if allowed and user.role not in allowed:
                return api_error(403, "forbidden", "该账号无权调用此接口")
            g.api_user = user
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, "token:" + ",".join(allowed or ("any",)))
        return wrapper  # type: ignore[return-value]

    return decorate
