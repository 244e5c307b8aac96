"""Small glue between WTForms and the services' ValidationFailed. Other forms import WTForms'
SelectChoice from here, so its missing stub is handled in one place."""
from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in types-WTForms 3.2 (new in 3.3)

from services.core.errors import ValidationFailed


def show_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Put each service-level problem under its field, or at the top of the form."""
    for name, message in exc.fields.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = list(field.errors or []) + [message]
        else:
            form.form_errors.append(message)


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
