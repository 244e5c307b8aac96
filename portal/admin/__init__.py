"""Admin console: bureaus, categories, services, routing rules, bundles, staff, holidays."""
from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import mailbox, views  # noqa: E402,F401
