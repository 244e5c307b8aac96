"""Bureau workbench: the queue, the ticket page and its actions, 差评 follow-ups."""
from flask import Blueprint

bp = Blueprint("staff", __name__)

from portal.staff import views  # noqa: E402,F401
