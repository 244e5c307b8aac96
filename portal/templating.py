"""Template globals and filters shared by every page."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request, url_for
from flask_babel import get_locale
from markupsafe import Markup

from services import policy
from services.core import roles, statuses
from services.core.clock import BEIJING


def url_with(**changes: object) -> str:
    """The current page's URL with some query arguments changed (None removes one)."""
    # The query string is built here rather than by url_for, which would take a visitor's
    # `?_scheme=` or `?_external=` as its own options (or clash with a path argument).
    args: dict[str, Any] = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    base = url_for(request.endpoint or "public.home", **(request.view_args or {}))
    return f"{base}?{urlencode(args)}" if args else base


def zh() -> Markup:
    """` lang="zh-CN"` on elements showing catalog text (always Chinese) when the page is in English."""
    return Markup(' lang="zh-CN"') if str(get_locale()) != "zh" else Markup("")


def category_label(category) -> str:
    """A category's name in the page language."""
    return category.name_en if str(get_locale()) == "en" and category.name_en else category.name


def attrs(**kwargs) -> dict:
    """HTML attributes without the unset ones (None), for WTForms field calls."""
    return {k.replace("_", "-"): v for k, v in kwargs.items() if v is not None}


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time shown in Beijing time."""
    if value is None:
        return ""
    return value.astimezone(BEIJING).strftime(fmt)


def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def format_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def unread_notifications() -> int:
    from flask_login import current_user

    from portal.extensions import db
    from services.tickets.notify import unread_count

    return unread_count(db.session, current_user) if current_user.is_authenticated else 0


def init_app(app: Flask) -> None:
    from flask_babel import gettext

    from portal.texts import tr
    from services.accounts.users import password_rule
    from services.requests.fields import display_value
    from services.tickets.workflow import label

    def status_label(status: str) -> str:
        return gettext(label(status))

    def password_hint() -> str:
        """The enforced password rule in the page language (services.accounts.users)."""
        return tr(password_rule())

    app.jinja_env.globals.update(policy=policy, role_groups=roles, statuses=statuses, url_with=url_with,
                                 category_label=category_label, display_value=display_value,
                                 status_label=status_label, attrs=attrs, zh=zh,
                                 unread_notifications=unread_notifications, password_hint=password_hint)
    # `{{ value|service_text }}`: a services.core.texts.Text (message, warning, label) in the page language.
    app.jinja_env.filters.update(datetime=format_datetime, date=format_date, filesize=filesize, service_text=tr)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
