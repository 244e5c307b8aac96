"""Security defaults: response headers with a Content-Security-Policy that allows no inline
script, secure cookies and a real secret key in production, rate limits. (The calm page when
the database is briefly away is one of the app's error handlers: portal/errors.py.)"""
from __future__ import annotations

from flask import Flask, current_app, request

from portal.config import DEFAULT_SECRET_KEY
from portal.extensions import limiter

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
WEAK_KEYS = {"", DEFAULT_SECRET_KEY, "change-me", "changeme", "secret", "dev"}

# Rate limits (per client address; API calls per token), each a config key with its default.
# Stored in memory by default; several workers or hosts share them through Redis:
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0".
LIMIT_DEFAULTS = {"RATELIMIT_LOGIN": "10 per minute", "RATELIMIT_REGISTER": "20 per hour",
                  "RATELIMIT_RESET": "5 per minute", "RATELIMIT_LOOKUP": "20 per minute",
                  "RATELIMIT_API": "300 per minute"}


def _configured(key: str):
    return lambda: current_app.config.get(key, LIMIT_DEFAULTS[key])


LOGIN_LIMIT = _configured("RATELIMIT_LOGIN")
REGISTER_LIMIT = _configured("RATELIMIT_REGISTER")
RESET_LIMIT = _configured("RATELIMIT_RESET")
LOOKUP_LIMIT = _configured("RATELIMIT_LOOKUP")
API_LIMIT = _configured("RATELIMIT_API")


class InsecureConfiguration(RuntimeError):
    pass


def check_production(app: Flask) -> None:
    """In production: refuse a default or missing secret key; cookies only over HTTPS."""
    if not app.config.get("PRODUCTION"):
        return
    key = str(app.config.get("SECRET_KEY") or "")
    if key in WEAK_KEYS or len(key) < 32:
        raise InsecureConfiguration(
            "生产环境必须设置足够长的随机密钥：PORTAL_SECRET_KEY（至少 32 个字符），例如用 "
            "python -c \"import secrets; print(secrets.token_hex(32))\" 生成。")
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")


def api_key() -> str:
    """Rate-limit API calls per token when there is one, else per address."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.values.get("api_key", "")
    return f"token:{token[:16]}" if token else f"ip:{request.remote_addr}"


def init_app(app: Flask) -> None:
    check_production(app)
    limiter.init_app(app)

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("PRODUCTION"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
