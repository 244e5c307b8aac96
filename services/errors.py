"""Errors services raise for the web layer, the API and the CLI to translate."""
from __future__ import annotations


class ServiceError(Exception):
    """Base: `code` is stable for the API, `message` is for people (Chinese)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(ServiceError):
    """Input is invalid; `fields` maps each bad field to what to fix."""

    status = 422
    code = "invalid"

    def __init__(self, fields: dict[str, str], message: str = "提交的内容有误，请按提示修改。"):
        super().__init__(message, fields)


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
