"""Enterprise registration, login, password reset, profile and API tokens."""
from flask import Blueprint

bp = Blueprint("account", __name__)

from portal.account import views  # noqa: E402,F401
