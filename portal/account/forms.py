from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from portal.formtools import choices, label_choices, order_fields
from services.accounts import reference


class ProfileForm(FlaskForm):
    company = StringField(_l("企业名称"), validators=[DataRequired(_l("请填写企业名称")), Length(max=200)])
    contact_name = StringField(_l("联系人"), validators=[DataRequired(_l("请填写联系人姓名")), Length(max=50)])
    mobile = TelField(_l("手机号码"), validators=[DataRequired(_l("请填写手机号码")), Length(max=20)])
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(_l("请填写电子邮箱")), Length(max=254)])
    # Required (so marked *); which choices are valid is checked by services.accounts.users.
    township = SelectField(_l("所在乡镇（街道）"), choices=choices([(t, t) for t in reference.TOWNSHIPS], _l("请选择")),
                           validators=[DataRequired(_l("请选择所在乡镇（街道）"))], validate_choice=False)
    industry = SelectField(_l("所属行业"), choices=label_choices(reference.INDUSTRIES, _l("请选择")),
                           validators=[DataRequired(_l("请选择所属行业"))], validate_choice=False)
    size = SelectField(_l("企业规模"), choices=label_choices(reference.SIZES, _l("请选择")),
                       validators=[DataRequired(_l("请选择企业规模"))], validate_choice=False)


class RegisterForm(ProfileForm):
    uscc = StringField(_l("统一社会信用代码"), validators=[DataRequired(_l("请填写统一社会信用代码")), Length(max=40)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请设置密码")), Length(max=128)])
    confirm = PasswordField(_l("再次输入密码"), validators=[DataRequired(_l("请再次输入密码")),
                                                         EqualTo("password", _l("两次输入的密码不一致"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order_fields(self, ("company", "uscc", "township", "industry", "size", "contact_name", "mobile", "email",
                            "password", "confirm"))  # as register.html shows them


class LoginForm(FlaskForm):
    login = StringField(_l("统一社会信用代码或用户名"), validators=[DataRequired(_l("请填写账号")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码")), Length(max=128)])
    remember = BooleanField(_l("在这台设备上保持登录（30 天）"))


class ResetRequestForm(FlaskForm):
    login = StringField(_l("统一社会信用代码或用户名"), validators=[DataRequired(_l("请填写账号")), Length(max=64)])


class ResetForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请设置新密码")), Length(max=128)])
    confirm = PasswordField(_l("再次输入新密码"), validators=[DataRequired(_l("请再次输入新密码")),
                                                           EqualTo("password", _l("两次输入的密码不一致"))])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码"))])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请设置新密码")), Length(max=128)])
    confirm = PasswordField(_l("再次输入新密码"), validators=[DataRequired(_l("请再次输入新密码")),
                                                           EqualTo("new_password", _l("两次输入的密码不一致"))])


class TokenForm(FlaskForm):
    name = StringField(_l("用途说明"), validators=[Length(max=100)])


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that change something (log out, revoke)."""
