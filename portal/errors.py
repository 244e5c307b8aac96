"""The app's one set of error handlers.

Every error a request can meet — a domain error from services (services.core.errors: NotFound,
ValidationFailed, Forbidden, Conflict, InvalidTransition, Stale, any ServiceError), a bad query
parameter (portal.params.ParamError, services.catalog.directory.BadQuery), an HTTP error (404,
405, 413, 429 …), a database that is away or a connection pool that is full, a bug — is answered
here in the form the request's surface speaks:

- pages: the error page with the status and the message (a ValidationFailed without a form to
  show it on: its messages);
- the JSON API (/api/): `{"error": {"code", "message", "fields"}}` with the error's status;
- Open311 (/open311/): the GeoReport v2 list `[{"code", "description"}]`, in XML when the URL
  ends in `.xml` (portal/open311/errors.py).

Messages are in the request's language (portal.i18n: `?lang=`, the `lang` cookie, then
`Accept-Language` on /api/ and /open311/); codes never change with it. Views catch a service
error only where they do something different with it — above all, re-render the same form with
the messages next to its fields (REFUSED); everything else reaches these handlers.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal.texts import tr
from services.core.cleantext import NUL_REFUSED
from services.core.errors import Conflict, Forbidden, ServiceError, ValidationFailed
from services.core.texts import N_, Text

# Messages that reach the API as plain strings from modules that do not translate them
# (services.core.errors' defaults, portal.access): marked here so that the extractor finds them.
PLAIN_MESSAGES = (
    N_("提交的内容有误，请按提示修改。"),
    N_("没有找到您要的内容"),
    N_("需要有效的 API 令牌（Authorization: Bearer <token>）"),
    N_("该账号无权调用此接口"),
)

#: The refusals a page shows next to the form it re-renders (field problems, a forbidden step, a
#: conflict with someone else's change). Views catch these, never NotFound: a missing or hidden
#: record is the 404 page, whatever the view was about to do.
REFUSED = (ValidationFailed, Forbidden, Conflict)

#: Seconds a client is asked to wait when the database is away or the connection pool is full.
RETRY_AFTER = 30

UNAVAILABLE = N_("系统正忙或正在维护，请稍后重试。您刚才的操作没有保存。")
PAGE_MESSAGES = {
    400: N_("请求有误，请检查后重试。"),
    403: N_("您没有权限访问这个页面。"),
    404: N_("您要找的页面不存在，可能已被移除或地址有误。"),
    405: N_("不支持这种访问方式。"),
    413: N_("上传的内容太大：每个文件不超过 10 MB，合计不超过 30 MB。"),
    429: N_("操作太频繁，请稍后再试。"),
    500: N_("系统开小差了，请稍后重试。如果问题持续，请致电联席会议办公室。"),
    503: UNAVAILABLE,
}
API_MESSAGES = {**PAGE_MESSAGES, 401: N_("需要有效的 API 令牌（Authorization: Bearer <token>）"),
                403: N_("该账号无权调用此接口"), 404: N_("没有找到您要的内容"), 500: N_("服务器内部错误，请稍后重试。")}
OPEN311_MESSAGES = {**API_MESSAGES, 404: N_("没有这个 Open311 接口；可用接口见 discovery.json")}


def shown(message):
    """A message in the request's language: a services.core.texts.Text is translated;
    a plain string is looked up as a msgid (those already translated, or data, come back as
    they are)."""
    if isinstance(message, Text):
        return str(tr(message))
    return _(message) if isinstance(message, str) and message else message


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    """The API's error body; `message` and each of `fields` are shown in the request's language."""
    return _api_response(status, code, message, fields), status


def _api_response(status: int, code: str, message, fields: dict | None = None) -> Response:
    body: dict = {"error": {"code": code, "message": shown(message)}}
    if fields:
        body["error"]["fields"] = {key: shown(value) for key, value in fields.items()}
    response = jsonify(body)
    response.status_code = status
    response.vary.add("Accept-Language")
    return response


_API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
              429: "too_many_requests", 500: "server_error", 503: "unavailable"}


def surface() -> str:
    """Who is asking: "api" (/api/), "open311" (/open311/) or "page" (everything else)."""
    path = request.path
    if path.startswith("/api/"):
        return "api"
    if path == "/open311" or path.startswith("/open311/"):
        return "open311"
    return "page"


def error_page(status: int, message, *, anonymous: bool = False) -> Response:
    """The error page. `anonymous`: render it without the logged-in user's header (which reads
    the database), for when the database is the trouble."""
    if anonymous:
        from portal.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
    return make_response(render_template("errors/error.html", status=status, message=shown(message)), status)


def error_response(status: int, code: str | None = None, message=None, fields: dict | None = None, *,
                   anonymous: bool = False) -> Response:
    """One error in the request's surface's form. Without `message`, the usual one for `status`."""
    kind = surface()
    code = code or _API_CODES.get(status, "error")
    if kind == "api":
        return _api_response(status, code, message or API_MESSAGES.get(status, N_("请求有误，请检查后重试。")), fields)
    if kind == "open311":
        from portal.open311.errors import error_answer

        return error_answer(status, message or OPEN311_MESSAGES.get(status, N_("请求有误，请检查后重试。")), fields)
    return error_page(status, message or PAGE_MESSAGES.get(status, N_("请求有误，请检查后重试。")), anonymous=anonymous)


def service_error(exc: ServiceError) -> Response:
    """A service's refusal that no view handled: its status, code, message and fields."""
    kind = surface()
    if kind == "api":
        return _api_response(exc.status, exc.code, exc.message, exc.fields or None)
    if kind == "open311":
        from portal.open311.errors import service_error as open311_service_error

        return open311_service_error(exc)
    from portal.texts import message as refusal

    return error_page(exc.status, refusal(exc))


def parameter_error(exc) -> Response:
    """A bad query parameter (ParamError, BadQuery): 400 naming the parameter."""
    return error_response(400, "bad_parameter", exc.message, {exc.field: exc.message})


def database_error(exc: Exception) -> Response:
    """The database is away or the pool is full: 503 with Retry-After, logged as a warning.
    Any other database error (an IntegrityError nobody expected …) is a bug: logged with its
    traceback, 500."""
    from portal import database
    from portal.extensions import db

    db.discard_session()
    if database.unavailable(exc):
        orig = getattr(exc, "orig", None)
        current_app.logger.warning("database unavailable: %s%s", exc.__class__.__name__,
                                   f" ({orig.__class__.__module__}.{orig.__class__.__name__})" if orig else "")
        response = error_response(503, "unavailable", UNAVAILABLE, anonymous=True)
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response
    if "NUL" in str(getattr(exc, "orig", "")) and isinstance(exc, DataError):  # a NUL no check caught
        current_app.logger.warning("NUL refused by the database on %s [%s]", request.path, request.method)
        return error_response(400, "bad_request", Text(NUL_REFUSED))
    current_app.logger.error("Exception on %s [%s]", request.path, request.method, exc_info=exc)
    return error_response(500, "server_error")


def init_app(app: Flask) -> None:
    from portal.params import ParamError
    from services.catalog.directory import BadQuery

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if surface() == "page":
            return error_page(400, N_("页面已过期或安全校验失败，您的提交没有保存。请返回上一页，刷新后重新提交。"))
        return error_response(400, "csrf_failed", N_("安全校验失败，请刷新页面后重试。"))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        described = "description" in vars(exc) and exc.description  # abort(status, "why")
        table = {"api": API_MESSAGES, "open311": OPEN311_MESSAGES}.get(surface(), PAGE_MESSAGES)
        message = table.get(status) or described or exc.name
        response = error_response(status, None, message)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(500)
    def server_error(exc):
        from portal.extensions import db

        db.discard_session()  # a failed flush must not break the error page too
        return error_response(500, "server_error")

    @app.before_request
    def refuse_nul_in_address():
        """NUL in the address: nothing is there (PostgreSQL cannot even compare it). A NUL in a
        parameter that reaches the database is a 400 (database_error); form and JSON bodies are
        checked field by field by the services (services.core.cleantext)."""
        if "\x00" in request.path:
            raise NotFound()

    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(ParamError, parameter_error)
    app.register_error_handler(BadQuery, parameter_error)
    app.register_error_handler(DBAPIError, database_error)  # OperationalError, IntegrityError … too
    app.register_error_handler(PoolTimeout, database_error)
