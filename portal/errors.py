"""Error pages for people and structured errors for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body: dict = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


_API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
              429: "too_many_requests", 500: "server_error"}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if _wants_json():
            return api_error(400, "csrf_failed", "安全校验失败，请刷新页面后重试。")
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
            return api_error(500, "server_error", "服务器内部错误，请稍后重试。")
        return render_template("errors/error.html", status=500,
                               message=_("系统开小差了，请稍后重试。如果问题持续，请致电联席会议办公室。")), 500
