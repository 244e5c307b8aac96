"""Access marks on view functions.

Every endpoint must say who may call it: `@public` for pages anyone may open. Later
blueprints add their own checks (login, role, ownership). tests/test_access.py walks
`app.url_map` and fails for any endpoint that carries no mark, so a new route cannot be
left open by accident.
"""
from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

ACCESS_ATTR = "_portal_access"


def public(view: F) -> F:
    """Anyone, logged in or not, may call this endpoint."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def access_of(view: Callable) -> str | None:
    return getattr(view, ACCESS_ATTR, None)
