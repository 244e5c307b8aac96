"""JSON API /api/v1 (contract in shared/DESIGN.md)."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from portal.api import catalog, requests, tickets  # noqa: E402,F401
