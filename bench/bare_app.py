"""Bare-Flask baseline for the page benchmark (bench/catalog_bench.py).

Renders the portal's real `templates/base.html` through the same Jinja setup as the portal
(same template folder and static folder, Flask-Babel with the same locale-selector semantics,
`trim_blocks`/`lstrip_blocks`, the `html_lang`/`get_locale` globals, and the extensions whose
template globals base.html uses: Flask-Login's `current_user` (always anonymous here) and
Flask-WTF's `csrf_token`) with a content block held in memory. No database, no search index,
no error handlers: what is left is the cost of Flask + Werkzeug + Jinja + Babel for one page
built on the portal's layout. Every catalog page is reported as a ratio to this page's
throughput.

Endpoints that base.html (and any template it includes or imports) links to with `url_for` are
found by scanning the template source and registered as stubs, so the baseline keeps working
while the layout changes; `public.home` is the measured page at `/`.

Serve with gunicorn: `gunicorn --chdir bench bare_app:app` (the benchmark does this).
"""
from __future__ import annotations

import os
import re

from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import Babel, get_locale
from flask_login import LoginManager
from flask_wtf import CSRFProtect

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The content block of the baseline page: roughly one screen of static text, about the size
# of the home page's hero section.
PAGE = """{% extends "base.html" %}
{% block title %}基准页{% endblock %}
{% block content %}
<section class="hero" aria-labelledby="hero-title">
  <h1 id="hero-title">{{ _("企业质量服务，一站找到、一次办好") }}</h1>
  <p class="lead">{{
    _("计量、标准化、检验检测、认证认可、质量管理、品牌培育、知识产权——说出您的需求，我们帮您找到对口的服务和部门。")
  }}</p>
  <form class="search-form" role="search" action="{{ url_for('public.search_page') }}" method="get">
    <label for="q" class="visually-hidden">{{ _("搜索服务") }}</label>
    <input id="q" name="q" type="search" maxlength="1000" autocomplete="off">
    <button type="submit">{{ _("搜索") }}</button>
  </form>
</section>
{% endblock %}
"""


_URL_FOR_RE = re.compile(r"""url_for\(\s*['"]([\w.]+)['"]""")
_TEMPLATE_REF_RE = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+['"]([^'"]+)['"]""")


def linked_endpoints(template_dir: str, name: str = "base.html") -> set[str]:
    """Endpoints named in url_for(...) calls of a template and of the templates it pulls in."""
    seen: set[str] = set()
    endpoints: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(os.path.join(template_dir, current), encoding="utf-8") as f:
                source = f.read()
        except OSError:
            continue
        endpoints.update(_URL_FOR_RE.findall(source))
        todo.extend(_TEMPLATE_REF_RE.findall(source))
    return endpoints


def _select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _html_lang() -> str:
    return "zh-CN" if str(get_locale()).startswith("zh") else str(get_locale())


def create_app() -> Flask:
    app = Flask(
        __name__,
        template_folder=os.path.join(REPO_ROOT, "templates"),
        static_folder=os.path.join(REPO_ROOT, "portal", "static"),
    )
    app.config.update(
        SECRET_KEY="bench-bare",
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(REPO_ROOT, "portal", "translations"),
        LANGUAGES={"zh": "中文", "en": "English"},
    )
    Babel(app, locale_selector=_select_locale)
    CSRFProtect(app)
    login = LoginManager(app)
    login.user_loader(lambda _user_id: None)  # nobody is logged in
    app.jinja_env.globals.update(html_lang=_html_lang, get_locale=get_locale)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    # Compiled once (render_template_string would recompile on every request).
    page = app.jinja_env.from_string(PAGE)

    public = Blueprint("public", __name__)

    @public.get("/")
    def home():
        return render_template(page)

    blueprints = {"public": public}

    def stub(**_kwargs):
        return "", 204

    endpoints = linked_endpoints(app.template_folder) | set(_URL_FOR_RE.findall(PAGE))
    for endpoint in sorted(endpoints - {"public.home", "static"}):
        bp_name, _, view = endpoint.rpartition(".")
        if not bp_name:
            app.add_url_rule(f"/_stub/{view}", view, stub)
            continue
        if bp_name not in blueprints:
            blueprints[bp_name] = Blueprint(bp_name, __name__)
        blueprints[bp_name].add_url_rule(f"/_stub/{bp_name}/{view}", view, stub)
    for bp in blueprints.values():
        app.register_blueprint(bp)
    return app


app = create_app()
