"""Open311 GeoReport v2 facade under /open311/v2/ (JSON and XML)."""
from flask import Blueprint

bp = Blueprint("open311", __name__)

from portal.open311 import views  # noqa: E402,F401
