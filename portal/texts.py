"""Labels and messages from services/ in the page language.

The services hand out Chinese: label dicts whose values are msgids marked with N_ (or with
`pgettext("audit", …)` for the audit log's entity and action names), and messages as
services.core.texts.Text, a str that also keeps its msgid and values. Here they are translated when a
page is shown; data (names, codes, notes people typed) passes through unchanged.
"""

from __future__ import annotations

from typing import Any, Mapping

from flask_babel import gettext, pgettext

from services.audit import AUDIT_CONTEXT
from services.core.errors import ServiceError, ValidationFailed
from services.core.texts import Text


def tr(value: Any) -> Any:
    """A services Text in the page language; anything else (data) as it is."""
    return value.translate(gettext, pgettext) if isinstance(value, Text) else value


def labels(mapping: Mapping[str, str], context: str | None = None) -> dict[str, str]:
    """A services label dict (values marked with N_, or pgettext in `context`) in the page language."""
    if context:
        return {key: pgettext(context, label) for key, label in mapping.items()}
    return {key: gettext(label) for key, label in mapping.items()}


def audit_labels(mapping: Mapping[str, str]) -> dict[str, str]:
    return labels(mapping, AUDIT_CONTEXT)


def message(exc: ServiceError) -> str:
    """What a service refused, in the page language: its field messages, or its message."""
    if exc.fields:
        return gettext("；").join(str(tr(m)) for m in exc.fields.values())
    return str(tr(exc.message))


def translated(exc: ValidationFailed) -> ValidationFailed:
    """The same refusal with its messages in the page language (for show_errors)."""
    return ValidationFailed({key: tr(m) for key, m in exc.fields.items()}, tr(exc.message))
