"""The JSON body of an API call, read once and checked before any service sees it."""
from __future__ import annotations

from typing import Any

from flask import request

from services.core.errors import ServiceError
from services.core.texts import N_, Text

#: Our bodies nest four levels at most ({"attributes": {"CODE": {"field": [values]}}}); far deeper
#: input is refused before anything walks it recursively.
MAX_DEPTH = 32


class BadBody(ServiceError):
    """The body is not JSON we can take: 400 `bad_json` (portal/errors.py)."""

    status = 400
    code = "bad_json"


def json_body() -> Any:
    """The parsed JSON body, or None when there is none or it is not valid JSON (the caller says
    what it expected). Raises BadBody for JSON that parses but cannot be used: nested deeper than
    MAX_DEPTH (100,000 `[` would otherwise exhaust the parser's recursion), or a string with a
    lone surrogate (`"\\ud800"`), which is no text at all and could never be stored or shown."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadBody(Text(N_("请求体嵌套过深（最多 %(depth)s 层）"), depth=MAX_DEPTH)) from None
    _check(body)
    return body


def _check(body: Any) -> None:
    """Depth and text of every value, without recursion."""
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise BadBody(Text(N_("请求体嵌套过深（最多 %(depth)s 层）"), depth=MAX_DEPTH))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, str):
            _text(value)


def _text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadBody(Text(N_("请求体含有无效的字符（单独的 UTF-16 代理项），请使用有效的 UTF-8 文本"))) from None
