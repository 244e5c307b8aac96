"""Default settings. `instance/config.py` and `PORTAL_*` environment variables override them.

Nothing here is read at import time by other modules: the app factory copies these values
into `app.config`, and everything else reads `app.config`.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_instance_path() -> str:
    """`PORTAL_INSTANCE_PATH` or `instance/` at the repository root."""
    return os.environ.get("PORTAL_INSTANCE_PATH") or str(REPO_ROOT / "instance")


def defaults(instance_path: str) -> dict:
    return {
        # Only good for local trying-out; issue a real one in instance/config.py.
        "SECRET_KEY": "dev-only-change-me",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "portal.sqlite3"),
        "SQLALCHEMY_ECHO": False,
        "INDEX_DIR": os.path.join(instance_path, "index"),
        "UPLOAD_DIR": os.path.join(instance_path, "uploads"),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh": "中文", "en": "English"},
        "SEARCH_PER_PAGE": 10,
        "API_MAX_PER_PAGE": 100,
        "POPULAR_SERVICES": 8,
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
        "SEND_FILE_MAX_AGE_DEFAULT": 3600,
    }
