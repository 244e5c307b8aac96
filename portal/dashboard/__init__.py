"""Statistics: the supervisor dashboard, the bureau lead view, the public performance page, enterprise quality files."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__, cli_group="stats")

from portal.dashboard import commands, views  # noqa: E402,F401
