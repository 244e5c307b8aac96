"""Small glue between WTForms and the services' ValidationFailed. Other forms import WTForms'
SelectChoice from here, so its missing stub is handled in one place."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Iterable, Mapping

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in types-WTForms 3.2 (new in 3.3)

from portal.texts import translated
from services.core.errors import ValidationFailed


def show_errors(form: FlaskForm, exc: ValidationFailed, *, missing_only: bool = False) -> None:
    """Put each service-level problem under its field, or at the top of the form. With
    `missing_only`, a field the form itself already found wrong keeps just the form's message
    (the service would mostly say the same in other words)."""
    for name, message in exc.fields.items():
        field = form._fields.get(name)
        if field is not None:
            if missing_only and field.errors:
                continue
            if message not in (field.errors or []):
                field.errors = list(field.errors or []) + [message]
        elif message not in form.form_errors:
            form.form_errors.append(message)


def validate_all(form: FlaskForm, problems: Callable[[], Mapping[str, str]] | None = None) -> bool:
    """validate_on_submit that reports every problem at once: when the form's own checks fail,
    `problems` (a services function that writes nothing) adds what the service would refuse
    too, so nobody fixes one field only to be told about the next. False on GET and when the
    page expired (bad CSRF token)."""
    if not form.is_submitted():
        return False
    if form.validate():
        return True
    if problems is not None and "csrf_token" not in form.errors:
        show_errors(form, translated(ValidationFailed(dict(problems()))), missing_only=True)
    return False


def order_fields(form: FlaskForm, names: Iterable[str]) -> None:
    """Put these fields first, in this order: the order the page shows them, so the error
    summary lists the problems top to bottom as the person meets them."""
    first = [n for n in names if n in form._fields]
    form._fields = OrderedDict([(n, form._fields[n]) for n in first]
                               + [(k, v) for k, v in form._fields.items() if k not in first])


def choices(pairs, prompt: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices, with an empty prompt first if given."""
    items = [SelectChoice("", prompt)] if prompt is not None else []
    return items + [SelectChoice(str(value), str(label)) for value, label in pairs]


def label_choices(pairs, prompt=None) -> list[SelectChoice]:
    """(value, label) pairs whose labels are msgids marked in services/ (N_): translated each time
    the form is shown, where `choices` would fix them in Chinese when the module is imported."""
    items = [SelectChoice("", prompt)] if prompt is not None else []
    return items + [SelectChoice(str(value), lazy_gettext(label)) for value, label in pairs]


def text(field: Field) -> str:
    """A text field's value as a string ("" when empty): WTForms gives None for a missing value."""
    return field.data or ""
