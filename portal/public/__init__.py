"""Public pages: home, categories, service guides, bureaus and search. No login needed."""
from flask import Blueprint

bp = Blueprint("public", __name__)

from portal.public import views  # noqa: E402,F401
