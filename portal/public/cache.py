"""Whole-page cache for the public catalog pages seen by anonymous visitors.

A page is stored per path, query string and language, and is valid while the catalog has not
changed: the key includes the newest search-outbox row (every service change writes one) and
the newest audit-log row (every admin change writes one), read in one small query. Logged-in
users, pages with flashed messages and anything but a 200 are never cached.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import wraps

from flask import Flask, current_app, get_flashed_messages, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db

MAX_PAGES = 2000
_VERSION_SQL = text("SELECT (SELECT max(id) FROM search_outbox), (SELECT max(id) FROM audit_log), "
                    "(SELECT count(*) FROM bureau)")


class PageCache:
    def __init__(self, size: int = MAX_PAGES):
        self.size = size
        self.pages: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key, page) -> None:
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


def catalog_version() -> tuple:
    return tuple(db.session.execute(_VERSION_SQL).one())


def cached_page(view):
    """Serve anonymous GETs of a public page from the cache while the catalog is unchanged."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        cache: PageCache | None = current_app.extensions.get("portal.page_cache")
        if cache is None or current_user.is_authenticated or "_flashes" in session:
            return view(*args, **kwargs)
        key = (request.full_path, str(get_locale()), catalog_version())
        page = cache.get(key)
        if page is not None:
            body, mimetype = page
            return current_app.response_class(body, mimetype=mimetype)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.headers.getlist("Set-Cookie") \
                and not get_flashed_messages():
            cache.put(key, (response.get_data(), response.mimetype))
        return response

    return wrapper


def init_app(app: Flask) -> None:
    if app.config.get("PAGE_CACHE", True):
        app.extensions["portal.page_cache"] = PageCache()
