"""Error pages for people and structured errors for the API.

API error messages are in the request's language (portal.i18n: `?lang=`, the `lang` cookie, then
`Accept-Language` on /api/ and /open311/); the error `code` never changes with it."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.texts import tr
from services.core.texts import N_, Text

# Messages that reach the API as plain strings from modules that do not translate them
# (services.core.errors' default, portal.access): marked here so that the extractor finds them.
PLAIN_MESSAGES = (
    N_("提交的内容有误，请按提示修改。"),
    N_("需要有效的 API 令牌（Authorization: Bearer <token>）"),
    N_("该账号无权调用此接口"),
)


def shown(message):
    """A message in the request's language: a services.core.texts.Text is translated;
    a plain string is looked up as a msgid (those already translated, or data, come back as
    they are)."""
    if isinstance(message, Text):
        return str(tr(message))
    return _(message) if isinstance(message, str) and message else message


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    """The API's error body; `message` and each of `fields` are shown in the request's language."""
    body: dict = {"error": {"code": code, "message": shown(message)}}
    if fields:
        body["error"]["fields"] = {key: shown(value) for key, value in fields.items()}
    response = jsonify(body)
    response.vary.add("Accept-Language")
    return response, status


_API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
              429: "too_many_requests", 500: "server_error"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if _wants_json():
            return api_error(400, "csrf_failed", N_("安全校验失败，请刷新页面后重试。"))
        return render_template("errors/error.html", status=400,
                               message=_("页面已过期或安全校验失败，您的提交没有保存。请返回上一页，刷新后重新提交。")), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if _wants_json():
            return api_error(status, _API_CODES.get(status, "error"), exc.description or exc.name)
        messages = {
            400: _("请求有误，请检查后重试。"),
            403: _("您没有权限访问这个页面。"),
            404: _("您要找的页面不存在，可能已被移除或地址有误。"),
            405: _("不支持这种访问方式。"),
            413: _("上传的内容太大：每个文件不超过 10 MB，合计不超过 30 MB。"),
            429: _("操作太频繁，请稍后再试。"),
        }
        return render_template("errors/error.html", status=status,
                               message=messages.get(status, exc.description or exc.name)), status

    @app.errorhandler(500)
    def server_error(exc):
        if _wants_json():
            return api_error(500, "server_error", N_("服务器内部错误，请稍后重试。"))
        return render_template("errors/error.html", status=500,
                               message=_("系统开小差了，请稍后重试。如果问题持续，请致电联席会议办公室。")), 500
