from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.formtools import choices, order_fields
from services.requests.fields import MAX_DESCRIPTION, FieldGroup, sections


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ContactFields(FlaskForm):
    """The contact fields a request form carries (the forms below inherit them)."""

    contact_name = StringField(_l("联系人"), validators=[DataRequired(_l("请填写联系人")), Length(max=50)])
    contact_mobile = TelField(_l("联系电话（手机）"), validators=[DataRequired(_l("请填写手机号码")), Length(max=20)])
    contact_email = EmailField(_l("电子邮箱"), validators=[Optional(), Length(max=254)])


class ApplyBase(ContactFields):
    idempotency_key = HiddenField()
    description = TextAreaField(_l("情况说明"), validators=[Optional(), Length(max=MAX_DESCRIPTION)])


def new_key() -> str:
    return uuid.uuid4().hex


def build_apply_form(groups: list[FieldGroup], **kwargs) -> ApplyBase:
    """A form class made for these request fields (Open311 datatypes)."""

    class ApplyForm(ApplyBase):
        pass

    for g in groups:
        f = g.field
        label, datatype = g.label or f.label, g.datatype or f.datatype
        validators = [Optional()]  # services.requests.fields checks the answers, every one at once
        render = {}
        field: Field
        if datatype == "text":
            field = TextAreaField(label, validators=validators, description=f.description)
        elif datatype == "number":
            render = {"inputmode": "decimal"}
            field = StringField(label, validators=validators, description=f.description, render_kw=render)
        elif datatype == "datetime":
            field = StringField(label, validators=validators, description=f.description,
                                render_kw={"type": "date"})
        elif datatype == "singlevaluelist":
            pairs = [(v["key"], v["name"]) for v in f.values]
            if len(pairs) <= 4:
                field = RadioField(label, choices=choices(pairs), validators=validators, description=f.description,
                                   validate_choice=False)
            else:
                field = SelectField(label, choices=choices(pairs, _l("请选择")), validators=validators,
                                    description=f.description, validate_choice=False)
        elif datatype == "multivaluelist":
            field = MultiCheckboxField(label, choices=choices((v["key"], v["name"]) for v in f.values),
                                       validators=validators, description=f.description, validate_choice=False)
        else:
            field = StringField(label, validators=validators, description=f.description)
        setattr(ApplyForm, g.name, field)
    form = ApplyForm(**kwargs)
    services = list({s.code: s for g in groups for s in g.services}.values())
    shared, own = sections(groups, services)
    order_fields(form, [g.name for g in shared] + [g.name for _, gs in own for g in gs]
                 + ["description", "contact_name", "contact_mobile", "contact_email"])  # as apply.html shows them
    return form


class ConfirmForm(FlaskForm):
    """The preview's confirm button; the answers travel as hidden inputs."""


class NeedForm(ContactFields):
    idempotency_key = HiddenField()
    description = TextAreaField(_l("请用自己的话描述遇到的问题或需求"),
                                validators=[DataRequired(_l("请描述您的需求")), Length(max=MAX_DESCRIPTION)])


class InfoForm(FlaskForm):
    message = TextAreaField(_l("补正说明"), validators=[Optional(), Length(max=MAX_DESCRIPTION)])


class WithdrawForm(FlaskForm):
    reason = StringField(_l("撤回原因（选填）"), validators=[Optional(), Length(max=500)])


class ProgressForm(FlaskForm):
    number = StringField(_l("申请编号"), validators=[DataRequired(_l("请填写申请编号")), Length(max=32)])
    query_code = StringField(_l("查询码"), validators=[DataRequired(_l("请填写查询码")), Length(max=12)])


class RatingForm(FlaskForm):
    score = RadioField(_l("满意度"), choices=choices([("5", "非常满意"), ("4", "满意"), ("3", "基本满意"),
                                                    ("2", "不满意"), ("1", "非常不满意")]), validate_choice=False)
    comment = TextAreaField(_l("评价内容（选填）"), validators=[Optional(), Length(max=1000)])
