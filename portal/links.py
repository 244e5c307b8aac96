"""Links that leave the portal (e-mails, notices): always on the configured public address.

A link in a mail must never come from the request that caused it: the `Host` header is the
visitor's to choose (`Host: evil.example` would put `http://evil.example/account/reset/…` into
a real person's mailbox). `PUBLIC_BASE_URL` (env `PORTAL_PUBLIC_BASE_URL`) says where the
portal is, e.g. `https://qi.lixian.gov.cn` or `https://www.lixian.gov.cn/qi` behind a path
prefix. Production refuses to start without it; elsewhere it defaults to the local demo address
`http://127.0.0.1:5000` (scripts/serve sets it to the port it serves on). Links shown on the
portal's own pages, and the `url` fields of the JSON API, stay ordinary `url_for` links.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Flask, current_app

from portal.security import InsecureConfiguration

DEMO_BASE_URL = "http://127.0.0.1:5000"


def normalise_base_url(value: object, *, production: bool) -> str:
    """The setting as `scheme://host[:port][/prefix]` without a trailing slash, or a clear refusal."""
    raw = str(value or "").strip()
    problem = "PORTAL_PUBLIC_BASE_URL（平台对外地址）"
    try:
        parts = urlsplit(raw)
        port = parts.port  # a non-numeric or out-of-range port raises here
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureConfiguration(f"{problem}应为以 http:// 或 https:// 开头的完整地址，例如 "
                                    f"https://qi.lixian.gov.cn ，而不是“{raw}”。")
    if parts.query or parts.fragment or "?" in raw or "#" in raw:
        raise InsecureConfiguration(f"{problem}不能带查询参数或 # 片段：“{raw}”。")
    if parts.username is not None or parts.password is not None:
        raise InsecureConfiguration(f"{problem}不能包含用户名或密码：“{raw}”。")
    if production and parts.scheme != "https":
        raise InsecureConfiguration(
            f"生产环境的 {problem}必须以 https:// 开头（登录 Cookie 只经 HTTPS 发送）：“{raw}”。")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def init_app(app: Flask) -> None:
    """Check `PUBLIC_BASE_URL` at start-up; production refuses to start without one."""
    value = app.config.get("PUBLIC_BASE_URL")
    production = bool(app.config.get("PRODUCTION"))
    if not value:
        if production:
            raise InsecureConfiguration(
                "生产环境必须设置平台对外地址 PORTAL_PUBLIC_BASE_URL（例如 https://qi.lixian.gov.cn），"
                "重设密码邮件和通知中的链接都以它为准，不再使用请求中的 Host。")
        value = DEMO_BASE_URL
    app.config["PUBLIC_BASE_URL"] = normalise_base_url(value, production=production)


def public_url(endpoint: str, **values: object) -> str:
    """The absolute URL of `endpoint` on the configured public address (for mails and notices).

    Works with or without a request; whatever the request's Host, scheme or script root were,
    the link starts with `PUBLIC_BASE_URL`. `_anchor` adds a `#fragment` as in url_for.
    """
    app = current_app
    base = urlsplit(str(app.config["PUBLIC_BASE_URL"]).rstrip("/"))
    anchor = values.pop("_anchor", None)
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(str(anchor), safe="%!#$&'()*+,/:;=?@")
    return url
