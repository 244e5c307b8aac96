"""Template globals and filters shared by every page."""
from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import get_locale


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "public.home", **(request.view_args or {}), **args)


def category_label(category) -> str:
    """A category's name in the page language."""
    return category.name_en if str(get_locale()) == "en" and category.name_en else category.name


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(url_with=url_with, category_label=category_label)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
