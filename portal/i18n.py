"""Chinese first, English second: the language comes from `?lang=` or the `lang` cookie set by the
switcher. The JSON API (/api/) and Open311 (/open311/) also follow the client's `Accept-Language`
when neither is given, so an API client asking for `en` gets English error messages; pages
ignore that header and stay Chinese unless the visitor switches."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, request
from flask_babel import get_locale

from portal.access import public
from portal.extensions import babel

LANG_COOKIE = "lang"
API_PREFIXES = ("/api/", "/open311/")  # paths where Accept-Language counts
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if lang and lang in languages:
        return lang
    if request.path.startswith(API_PREFIXES) and request.accept_languages:
        best = request.accept_languages.best_match(list(languages))
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed (after switching language, logging in …): no other host,
    and no control character, which would end the Location header and start another
    (`/%0d%0aSet-Cookie:…`)."""
    if not target:
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@bp.get("/lang/<code>")
@public
def switch(code: str):
    response = redirect(safe_next(request.args.get("next")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def html_lang() -> str:
    return "zh-CN" if str(get_locale()).startswith("zh") else str(get_locale())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(html_lang=html_lang, get_locale=get_locale)
