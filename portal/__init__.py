"""澧县质量基础设施“一站式”服务平台 — the Flask application factory."""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

from portal.config import default_instance_path, defaults

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    instance_path = default_instance_path()
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=os.path.join(REPO_ROOT, "templates"),
    )
    app.config.from_mapping(defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("PORTAL")
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # Every `<int:…>` route refuses ids no row can have (a 404), before any route is added.
    from portal.params import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter

    from portal import errors, i18n, links, security, sessions, templating
    from portal.account import bp as account_bp
    from portal.admin import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.cli import register_cli
    from portal.dashboard import bp as dashboard_bp
    from portal.extensions import csrf, db, limiter, search
    from portal.open311 import bp as open311_bp
    from portal.public import bp as public_bp
    from portal.requests import bp as requests_bp
    from portal.staff import bp as staff_bp

    security.init_app(app)
    links.init_app(app)
    db.init_app(app)
    search.init_app(app)
    csrf.init_app(app)
    sessions.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    errors.init_app(app)

    app.register_blueprint(public_bp)
    from portal.public import cache as page_cache

    page_cache.init_app(app)
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(requests_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(open311_bp, url_prefix="/open311/v2")
    csrf.exempt(api_bp)  # token-authenticated APIs; pages keep CSRF
    csrf.exempt(open311_bp)
    for blueprint in (api_bp, open311_bp):
        limiter.limit(security.API_LIMIT, key_func=security.api_key)(blueprint)
    register_cli(app)
    return app
