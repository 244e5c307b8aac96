"""Small glue between WTForms and the services' ValidationFailed."""
from __future__ import annotations

from flask_wtf import FlaskForm

from services.errors import ValidationFailed


def show_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Put each service-level problem under its field, or at the top of the form."""
    for name, message in exc.fields.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = list(field.errors or []) + [message]
        else:
            form.form_errors.append(message)
