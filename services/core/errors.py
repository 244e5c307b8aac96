"""The domain's errors. Services raise them; the app's error handlers (portal/errors.py) turn
them into the right page, JSON API error or Open311 error, so views never catch them one by one."""
from __future__ import annotations

from services.core.texts import N_, Text


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

    def __init__(self, fields: dict[str, str], message: str = N_("提交的内容有误，请按提示修改。")):
        super().__init__(message, fields)


class NotFound(ServiceError):
    """Nothing there, or nothing this user may see (the two are never told apart)."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = N_("没有找到您要的内容"), fields: dict[str, str] | None = None):
        super().__init__(message, fields)


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """The state machine does not allow this action in the current status."""

    code = "invalid_transition"


STALE = N_("该内容刚刚已被他人更新，您的操作没有保存。请查看最新状态后再操作。")


class Stale(Conflict):
    """Someone else changed the record after this form was opened; nothing was saved."""

    code = "stale"

    def __init__(self, message: str | None = None, fields: dict[str, str] | None = None):
        super().__init__(message or Text(STALE), fields)
