"""Security defaults: response headers with a Content-Security-Policy that allows no inline
script, a real secret key (generated into instance/ outside production, refused when weak in
production), secure cookies in production, the trusted reverse proxies, rate limits. (The calm page when
the database is briefly away is one of the app's error handlers: portal/errors.py.)"""
from __future__ import annotations

import math
import os
import secrets
import string

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import DEFAULT_SECRET_KEY
from portal.extensions import limiter

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
WEAK_KEYS = {"", DEFAULT_SECRET_KEY, "change-me", "changeme", "secret", "dev"}
SECRET_KEY_FILE = "secret_key"  # in the instance folder, when no key is configured outside production
MIN_KEY_BITS = 128
MIN_DISTINCT_CHARACTERS = 10
GENERATE_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'

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


def _estimated_bits(key: str) -> float:
    """A rough upper bound of the randomness in a key: its length times the bits of the smallest
    alphabet that spells it (hex 4, letters and digits ~6, with punctuation ~6.6); none for a key
    made of very few different characters or of one piece repeated."""
    if len(set(key)) < MIN_DISTINCT_CHARACTERS or key in (key + key)[1:-1]:
        return 0.0
    if all(c in string.hexdigits for c in key) and (key == key.lower() or key == key.upper()):
        alphabet = 16
    else:
        alphabet = sum(size for chars, size in ((string.ascii_lowercase, 26), (string.ascii_uppercase, 26),
                                                 (string.digits, 10)) if any(c in chars for c in key))
        alphabet += 33 if any(not c.isascii() or not c.isalnum() for c in key) else 0
    return len(key) * math.log2(max(alphabet, 2))


def _instance_key(app: Flask) -> str:
    """The key in instance/secret_key, made on first use: random, mode 0600, written under a
    temporary name and linked into place, so that workers starting together agree on one key."""
    path = os.path.join(app.instance_path, SECRET_KEY_FILE)
    if not os.path.exists(path):
        os.makedirs(app.instance_path, exist_ok=True)
        temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temporary, path)  # fails when another process was first: its key wins
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    with open(path, encoding="ascii", errors="replace") as stored:
        key = stored.read().strip()
    if len(key) < 32:
        raise InsecureConfiguration(f"密钥文件 {path} 内容不完整：请删除它（下次启动会重新生成），"
                                    "或用 PORTAL_SECRET_KEY 设置密钥。")
    return key


def check_secret_key(app: Flask) -> None:
    """Production: a configured key of enough randomness. Elsewhere: the configured key, or one
    generated into instance/secret_key on first run; a publicly known key only in tests."""
    key = str(app.config.get("SECRET_KEY") or "")
    if app.config.get("PRODUCTION"):
        if key in WEAK_KEYS or len(key) < 32:
            raise InsecureConfiguration(
                "生产环境必须设置足够长的随机密钥：PORTAL_SECRET_KEY（至少 32 个字符），例如用 "
                f"{GENERATE_KEY} 生成。")
        bits = _estimated_bits(key)
        if bits < MIN_KEY_BITS:
            raise InsecureConfiguration(
                f"生产环境的密钥 PORTAL_SECRET_KEY 太容易猜到（估计约 {int(bits)} 位随机性，至少需要 "
                f"{MIN_KEY_BITS} 位；重复或字符种类很少的密钥都不行），请用 {GENERATE_KEY} 生成一个。")
        return
    if not key:
        app.config["SECRET_KEY"] = _instance_key(app)
    elif key in WEAK_KEYS and not app.testing:
        raise InsecureConfiguration(
            f"密钥“{key}”是公开的示例值，任何人都能用它伪造登录：请删除 instance/config.py 中的 SECRET_KEY "
            f"和 PORTAL_SECRET_KEY（平台会在 instance/{SECRET_KEY_FILE} 生成随机密钥），或用 {GENERATE_KEY} "
            "生成一个。")


def check_production(app: Flask) -> None:
    """In production: cookies only over HTTPS, and links built as https (the key: check_secret_key)."""
    if not app.config.get("PRODUCTION"):
        return
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")


def proxy_count(app: Flask) -> int:
    """`PROXY_COUNT`: how many reverse proxies in front of the portal to believe (0 = none)."""
    value = app.config.get("PROXY_COUNT") or 0
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise InsecureConfiguration(f"PORTAL_PROXY_COUNT 应为反向代理的层数（0、1、2…），而不是“{value}”。")
    return int(str(value).strip())


def trust_proxies(app: Flask) -> None:
    """Behind `PROXY_COUNT` proxies, take the client's address and scheme from the last that many
    X-Forwarded-For / X-Forwarded-Proto entries (Werkzeug's ProxyFix). With 0 (the default) those
    headers are ignored: anyone can send them, and the rate limits would count what they say.
    X-Forwarded-Host, -Port and -Prefix are never believed: links in mails come from
    PUBLIC_BASE_URL (portal/links.py), and nginx passes the real Host itself."""
    count = proxy_count(app)
    app.config["PROXY_COUNT"] = count
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count,  # type: ignore[method-assign]
                                x_host=0, x_port=0, x_prefix=0)


def api_key() -> str:
    """Rate-limit API calls per token when there is one, else per address."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.values.get("api_key", "")
    return f"token:{token[:16]}" if token else f"ip:{request.remote_addr}"


def init_app(app: Flask) -> None:
    check_secret_key(app)
    check_production(app)
    trust_proxies(app)
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
