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

    from portal import errors, i18n, templating
    from portal.api import bp as api_bp
    from portal.cli import register_cli
    from portal.extensions import csrf, db, search
    from portal.public import bp as public_bp

    db.init_app(app)
    search.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    errors.init_app(app)

    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # token-authenticated JSON API; pages keep CSRF
    register_cli(app)
    return app
