"""Who is logged in: Flask-Login bound to the accounts service."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.extensions import db, login_manager
from services.accounts import users as accounts


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "account.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        user = accounts.get_user(db.session, int(user_id))
        return user if user is not None and user.active else None
