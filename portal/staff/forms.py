from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from portal.formtools import choices


class ActionForm(FlaskForm):
    action = HiddenField()
    version = HiddenField()
    message = TextAreaField(_l("内容"), validators=[Optional(), Length(max=5000)])
    to_bureau = SelectField(_l("单位"), validators=[Optional()], validate_choice=False)


class ClaimForm(FlaskForm):
    version = HiddenField()


class AssignForm(FlaskForm):
    version = HiddenField()
    assignee = SelectField(_l("分派给"), validate_choice=False)


class FollowUpForm(FlaskForm):
    note = TextAreaField(_l("回访和整改情况"), validators=[Optional(), Length(max=1000)])


def bureau_choices(bureaus, exclude_id=None):
    return choices(((b.code, b.name) for b in bureaus if b.id != exclude_id), "请选择单位")
