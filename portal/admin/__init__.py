"""Admin console: bureaus, categories, services, routing rules, bundles, staff, holidays."""
from flask import Blueprint

from portal.admin.texts import tr

bp = Blueprint("admin", __name__)
# `{{ value|service_text }}`: a services.texts.Text (message, warning, audit label) in the page language.
bp.add_app_template_filter(tr, "service_text")

from portal.admin import views  # noqa: E402,F401
