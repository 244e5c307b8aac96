"""Enterprise requests: apply for a service or a bundle, "我有需求", my requests, the request
page with its timeline, attachments, and the public progress lookup."""
from flask import Blueprint

bp = Blueprint("requests", __name__)

from portal.requests import views  # noqa: E402,F401
