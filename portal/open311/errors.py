"""Open311 errors as GeoReport v2 defines them: a list of `{"code", "description"}`
(`<errors><error><code>…</code><description>…</description></error></errors>` in XML), with that
HTTP status. The app's error handlers (portal/errors.py) answer every error under /open311/ here —
a service's refusal, a wrong URL or method, the database away — so a client never gets a page.
The format is the URL's: XML when the path ends in `.xml`, JSON otherwise.
"""
from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _

from portal.open311.formats import FORMATS, errors
from services.core.errors import ServiceError, ValidationFailed

# Open311 parameter names for the fields `services.requests.submission` reports problems on.
PARAMETERS = {"services": "service_code", "description": "description",
              "contact_name": "first_name/last_name", "contact_mobile": "phone", "contact_email": "email",
              "idempotency_key": "idempotency_key"}


def url_format(path: str) -> str:
    """`xml` for …/requests.xml, `json` for anything else (also an unknown extension)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    ext = last.rsplit(".", 1)[-1].lower() if "." in last else ""
    return ext if ext in FORMATS else "json"


def parameter(field_key: str) -> str:
    """`attributes.JL-001.capacity` → `attribute[capacity]`; `contact_mobile` → `phone`."""
    if field_key.startswith("attributes."):
        return f"attribute[{field_key.split('.', 2)[-1]}]"
    return PARAMETERS.get(field_key, field_key)


def error_answer(status: int, message, fields: dict | None = None) -> Response:
    """One error (or one per field) in the request URL's format."""
    from portal.errors import shown

    if fields:
        descriptions = [_("%(label)s：%(message)s", label=parameter(k), message=shown(v)) for k, v in fields.items()]
    else:
        descriptions = [message]
    return errors(url_format(request.path), status, descriptions)


def service_error(exc: ServiceError) -> Response:
    """A service's refusal: one error per bad field, named as the Open311 parameter; the spec
    has no 422, so invalid input is 400."""
    status = 400 if exc.status == 422 else exc.status
    if isinstance(exc, ValidationFailed) and exc.fields:
        return error_answer(status, exc.message, exc.fields)
    return error_answer(status, exc.message)
