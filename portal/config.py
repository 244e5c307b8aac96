"""Default settings. `instance/config.py` and `PORTAL_*` environment variables override them.

Nothing here is read at import time by other modules: the app factory copies these values
into `app.config`, and everything else reads `app.config`.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-only-change-me"


def default_instance_path() -> str:
    """`PORTAL_INSTANCE_PATH` or `instance/` at the repository root."""
    return os.environ.get("PORTAL_INSTANCE_PATH") or str(REPO_ROOT / "instance")


def defaults(instance_path: str) -> dict:
    return {
        # Signs sessions and reset links. Unset outside production: a random key is generated into
        # instance/secret_key on first run and reused (portal/security.py). Production requires a
        # configured random key (PORTAL_SECRET_KEY, ≥ 128 bits); the publicly known
        # DEFAULT_SECRET_KEY and other example values are refused everywhere but tests.
        "SECRET_KEY": None,
        # Where the portal is for the people it writes to, e.g. "https://qi.lixian.gov.cn" (a path
        # prefix is allowed): every link in e-mails and notices starts with it, never with the
        # request's Host (portal/links.py). Required in production; elsewhere None means the local
        # demo address http://127.0.0.1:5000 (scripts/serve sets the port it serves on).
        "PUBLIC_BASE_URL": None,
        # Reverse proxies in front of the portal whose X-Forwarded-For / X-Forwarded-Proto are
        # believed (Werkzeug's ProxyFix): 1 behind one nginx. 0 ignores those headers, so rate
        # limits count the connecting address.
        "PROXY_COUNT": 0,
        # Set PORTAL_PRODUCTION=true on a real deployment: refuses a weak secret key, cookies only
        # over HTTPS, HSTS.
        "PRODUCTION": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "portal.sqlite3"),
        "SQLALCHEMY_ECHO": False,
        # Connection pool per process (portal/database.py); None takes the default for the kind of
        # database: SQLite 10 kept, more opened as needed (-1: no overflow limit); PostgreSQL 5 + 10,
        # waiting up to 30 s for one.
        # A request that waits longer answers 503 with Retry-After.
        "SQLALCHEMY_POOL_SIZE": None,
        "SQLALCHEMY_MAX_OVERFLOW": None,
        "SQLALCHEMY_POOL_TIMEOUT": None,
        "INDEX_DIR": os.path.join(instance_path, "index"),
        "TICKET_INDEX_DIR": os.path.join(instance_path, "ticket-index"),
        "SEARCH_SYNC_STATE": os.path.join(instance_path, "search-sync.json"),
        # "inline": the web process applies search changes itself (one process);
        # "indexer": `flask --app portal search sync --follow` does it (several workers or hosts).
        "SEARCH_SYNC": "inline",
        # Inline mode: how long a ticket search waits for the background rebuild of a missing
        # ticket index before it answers "being rebuilt" (seconds).
        "TICKET_INDEX_REBUILD_WAIT": 5.0,
        "UPLOAD_DIR": os.path.join(instance_path, "uploads"),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh": "中文", "en": "English"},
        "SEARCH_PER_PAGE": 10,
        "API_MAX_PER_PAGE": 100,
        "POPULAR_SERVICES": 8,
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
        "SEND_FILE_MAX_AGE_DEFAULT": 3600,
        # Attachments: 10 MB a file, 30 MB a request (services/uploads.py); the whole HTTP body a little more.
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # E-mail (outbox, `flask --app portal notify send`). MAIL_BACKEND "smtp" sends through
        # MAIL_HOST…; "folder" (the local demo, scripts/serve) writes each message as an .eml file
        # into MAIL_FOLDER at the end of the request that queued it, shown on /admin/mailbox.
        "MAIL_BACKEND": "smtp",
        "MAIL_FOLDER": os.path.join(instance_path, "mail"),
        "MAIL_HOST": "127.0.0.1",
        "MAIL_PORT": 25,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_STARTTLS": False,
        "MAIL_SSL": False,
        "MAIL_SENDER": "noreply@example.com",
    }
