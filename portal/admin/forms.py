"""Admin console forms. They only carry and shape input: every rule about what is valid lives
in the services the admin views call, whose errors `show_errors` / `show_guide_errors` put
under the fields."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.formtools import SelectChoice, choices, label_choices
from portal.templating import category_label
from portal.texts import tr
from services.accounts import reference
from services.accounts import staff as admin_staff
from services.catalog import bundles as admin_bundles
from services.catalog import bureaus as admin_bureaus
from services.catalog import guides as admin_guides
from services.catalog.field_types import DATATYPE_NAMES
from services.catalog.guides import (
    GUIDE_LABELS,
    FieldInput,
    ServiceInput,
    parse_values,
    split_lines,
    split_words,
)
from services.requests import routing_admin as admin_routing
from services.requests import routing_tester as route_tester


def _max(n: int) -> Length:
    # Length fills in %(max)d itself, in the language of the request.
    return Length(max=n, message=_l("不能超过 %(max)d 个字"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that change something (publish, delete, …)."""


# --------------------------------------------------------------------------- errors
def error_list(form) -> list[tuple[str | None, str]]:
    """(anchor id, message) for the error summary, fields of nested rows included."""
    out: list[tuple[str | None, str]] = [(None, m) for m in getattr(form, "form_errors", [])]
    for f in form:
        if f.name == "csrf_token":
            if f.errors:
                out.append((None, _("页面已过期，请刷新后重新提交。")))
            continue
        if isinstance(f, FieldList):
            for n, entry in enumerate(f.entries, 1):
                sub = entry.form
                out.extend((None, _("申请字段 %(n)s：%(message)s", n=n, message=tr(m)))
                           for m in getattr(sub, "form_errors", []))
                for sf in sub:
                    out.extend(
                        (sf.id, _("申请字段 %(n)s · %(label)s：%(message)s", n=n, label=sf.label.text, message=tr(m)))
                        for m in sf.errors
                    )
            continue
        out.extend((f.id, _("%(label)s：%(message)s", label=f.label.text, message=tr(m)))
                   for m in f.errors if isinstance(m, (str, LazyString)))  # lazy: DataRequired(_l(…))
    return out


FORM_NAMES = {"process": "process_steps"}  # catalog field -> form field where they differ
_ROW_PROBLEM = re.compile(r"^fields\[(\d+)\](?:\.(\w+))?$")


def show_guide_errors(form: ServiceForm, exc: admin_guides.GuideRejected, row_map: list[int]) -> None:
    """Put each catalog Problem next to its field ("materials", "fields[2].code", …)."""
    for key, message in exc.fields.items():
        message = tr(message)
        m = _ROW_PROBLEM.match(key)
        if m:
            n = int(m.group(1)) - 1
            if 0 <= n < len(row_map):
                sub = form.fields.entries[row_map[n]].form
                target = sub._fields.get(m.group(2) or "")
                if target is not None:
                    target.errors = list(target.errors or []) + [message]
                else:
                    sub.form_errors.append(message)
                continue
        target = form._fields.get(FORM_NAMES.get(key, key))
        if target is not None and key != "fields":
            target.errors = list(target.errors or []) + [message]
        else:
            label = _(GUIDE_LABELS[key]) if key in GUIDE_LABELS else key
            form.form_errors.append(
                _("%(label)s：%(message)s", label=label, message=message) if label else message
            )


# --------------------------------------------------------------------------- bureaus, categories
class BureauForm(FlaskForm):
    code = StringField(_l("单位编码"), validators=[_max(32)])
    name = StringField(_l("单位全称"), validators=[_max(100)])
    short_name = StringField(_l("简称"), validators=[_max(50)])
    phone = StringField(_l("咨询电话"), validators=[_max(50)])
    address = StringField(_l("办公地址"), validators=[_max(200)])
    office_hours = StringField(_l("办公时间"), validators=[_max(200)])
    description = TextAreaField(_l("职责简介"), validators=[_max(5000)])
    joint_office = BooleanField(_l("这是质量强县工作联席会议办公室（负责分办未指定服务的需求、督办）"))

    def to_input(self) -> admin_bureaus.BureauInput:
        return admin_bureaus.BureauInput(
            code=(self.code.data or "").strip(),
            name=self.name.data or "",
            short_name=self.short_name.data or "",
            phone=self.phone.data or "",
            address=self.address.data or "",
            office_hours=self.office_hours.data or "",
            description=self.description.data or "",
            joint_office=bool(self.joint_office.data),
        )


class CategoryForm(FlaskForm):
    name = StringField(_l("中文名称"), validators=[_max(50)])
    name_en = StringField(_l("英文名称"), validators=[_max(80)])
    description = TextAreaField(_l("说明"), validators=[_max(2000)])
    position = StringField(_l("排序"), validators=[_max(3)])

    def to_input(self) -> admin_bureaus.CategoryInput:
        return admin_bureaus.CategoryInput(
            name=self.name.data or "",
            name_en=self.name_en.data or "",
            description=self.description.data or "",
            position=self.position.data or "",
        )


# --------------------------------------------------------------------------- services
class FieldRowForm(Form):
    code = StringField(_l("字段编码"))
    label = StringField(_l("字段名称"))
    datatype = SelectField(
        _l("数据类型"), choices=label_choices(DATATYPE_NAMES.items()), default="string", validate_choice=False
    )
    required = BooleanField(_l("必填"))
    description = StringField(_l("填写说明"))
    values = TextAreaField(_l("选项（仅列表类型）"))

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.code, self.label, self.description, self.values))


class ServiceForm(FlaskForm):
    # No length or required checks here: the catalog validation decides (see services.catalog.validation).
    code = StringField(_l("服务编码"))
    name = StringField(_l("服务名称"))
    category = SelectField(_l("服务类别"), validate_choice=False)
    bureau = SelectField(_l("责任单位"), validate_choice=False)
    summary = TextAreaField(_l("服务简介"))
    conditions = TextAreaField(_l("受理条件"))
    materials = TextAreaField(_l("申请材料"))
    process_steps = TextAreaField(_l("办理流程"))  # not `process`: that is Form.process
    legal_basis = TextAreaField(_l("设定依据"))
    time_limit_days = StringField(_l("承诺时限（工作日）"))
    statutory_limit_days = StringField(_l("法定时限（工作日）"))
    fee = StringField(_l("收费标准"))
    place = StringField(_l("办理地点"))
    hours = StringField(_l("办理时间"))
    contact = StringField(_l("咨询电话"))
    keywords = TextAreaField(_l("搜索关键词"))
    online = BooleanField(_l("可网上申请"), default=True)
    popular = BooleanField(_l("列为热门服务"))
    published = BooleanField(_l("保存后立即发布到服务目录"), default=True)
    fields = FieldList(FormField(FieldRowForm), min_entries=0, max_entries=50)

    def to_input(self) -> tuple[ServiceInput, list[int]]:
        """The service input and, for each request field passed on, its row in the form
        (blank rows are skipped)."""
        rows: list[FieldInput] = []
        row_map: list[int] = []
        for i, entry in enumerate(self.fields.entries):
            sub: FieldRowForm = entry.form
            if sub.is_blank():
                continue
            rows.append(
                FieldInput(
                    code=(sub.code.data or "").strip(),
                    label=sub.label.data or "",
                    datatype=sub.datatype.data or "string",
                    required=bool(sub.required.data),
                    description=sub.description.data or "",
                    values=parse_values(sub.values.data),
                )
            )
            row_map.append(i)
        data = ServiceInput(
            code=(self.code.data or "").strip(),
            name=self.name.data or "",
            category=self.category.data or "",
            bureau=self.bureau.data or "",
            summary=self.summary.data or "",
            conditions=self.conditions.data or "",
            materials=split_lines(self.materials.data),
            process=split_lines(self.process_steps.data),
            legal_basis=self.legal_basis.data or "",
            time_limit_days=(self.time_limit_days.data or "").strip(),
            statutory_limit_days=(self.statutory_limit_days.data or "").strip(),
            fee=self.fee.data or "",
            place=self.place.data or "",
            hours=self.hours.data or "",
            contact=self.contact.data or "",
            keywords=split_words(self.keywords.data),
            online=bool(self.online.data),
            popular=bool(self.popular.data),
            published=bool(self.published.data),
            fields=rows,
        )
        return data, row_map

    def rows(self) -> list[dict]:
        return [dict(entry.form.data) for entry in self.fields.entries]


def service_form_data(record: dict) -> dict:
    """A catalog.service_record as ServiceForm data."""
    data = dict(record)
    data["materials"] = "\n".join(record.get("materials") or [])
    data["process_steps"] = "\n".join(record.get("process") or [])
    data["keywords"] = "\n".join(record.get("keywords") or [])
    data["time_limit_days"] = str(record.get("time_limit_days") or "")
    stat = record.get("statutory_limit_days")
    data["statutory_limit_days"] = "" if stat is None else str(stat)
    data["fields"] = [
        {
            "code": f["code"],
            "label": f["label"],
            "datatype": f["datatype"],
            "required": f["required"],
            "description": f.get("description", ""),
            "values": admin_guides.values_text(f.get("values")),
        }
        for f in record.get("fields") or []
    ]
    return data


FIELD_OPS = re.compile(r"^(add|remove|up|down)(?:-(\d+))?$")


def apply_field_op(form: ServiceForm, op: str) -> tuple[ServiceForm, str] | None:
    """Add, remove or move a request-field row without saving; returns the rebuilt form and
    what happened, or None if `op` is not a row operation."""
    m = FIELD_OPS.match(op or "")
    if not m:
        return None
    rows = form.rows()
    kind, n = m.group(1), int(m.group(2)) if m.group(2) else -1
    message = ""
    if kind == "add":
        if len(rows) < 50:
            rows.append(
                {
                    "code": "",
                    "label": "",
                    "datatype": "string",
                    "required": False,
                    "description": "",
                    "values": "",
                }
            )
            message = _("已添加申请字段 %(n)s，填写后请保存。", n=len(rows))
    elif 0 <= n < len(rows):
        if kind == "remove":
            rows.pop(n)
            message = _("已移除申请字段 %(n)s，保存后生效。", n=n + 1)
        elif kind == "up" and n > 0:
            rows[n - 1], rows[n] = rows[n], rows[n - 1]
            message = _("申请字段 %(n)s 已上移，保存后生效。", n=n + 1)
        elif kind == "down" and n < len(rows) - 1:
            rows[n + 1], rows[n] = rows[n], rows[n + 1]
            message = _("申请字段 %(n)s 已下移，保存后生效。", n=n + 1)
    data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "fields")}
    data["fields"] = rows
    rebuilt = type(form)(formdata=None, data=data)
    return rebuilt, message


def bureau_pairs(bureaus) -> list[tuple[str, str]]:
    """(code, "short name (code)") for a bureau select."""
    return [(b.code, _("%(name)s（%(code)s）", name=b.short_name, code=b.code)) for b in bureaus]


def set_service_choices(form: ServiceForm, categories, bureaus) -> None:
    form.category.choices = choices(((c.code, category_label(c)) for c in categories), _("请选择"))
    form.bureau.choices = choices(bureau_pairs(bureaus), _("请选择"))


# --------------------------------------------------------------------------- routing rules
class RuleForm(FlaskForm):
    name = StringField(_l("规则名称"), validators=[_max(200)])
    priority = StringField(_l("优先级"), default="100", validators=[_max(5)])
    bureau = SelectField(_l("转至单位"), validate_choice=False)
    active = BooleanField(_l("启用"), default=True)
    townships = MultiCheckboxField(
        _l("企业所在乡镇（街道）"), choices=choices((t, t) for t in reference.TOWNSHIPS), validate_choice=False
    )
    industries = MultiCheckboxField(
        _l("企业所属行业"), choices=label_choices(reference.INDUSTRIES), validate_choice=False
    )
    sizes = MultiCheckboxField(_l("企业规模"), choices=label_choices(reference.SIZES), validate_choice=False)
    categories = MultiCheckboxField(_l("服务类别"), validate_choice=False)
    services = TextAreaField(_l("服务编码"), validators=[_max(2000)])
    keywords = TextAreaField(_l("关键词"), validators=[_max(2000)])
    field_code = StringField(_l("申请字段编码"), validators=[_max(64)])
    field_values = StringField(_l("申请字段取值"), validators=[_max(1000)])

    def to_input(self) -> admin_routing.RuleInput:
        return admin_routing.RuleInput(
            name=self.name.data or "",
            priority=(self.priority.data or "").strip(),
            bureau=self.bureau.data or "",
            active=bool(self.active.data),
            townships=list(self.townships.data or []),
            industries=list(self.industries.data or []),
            sizes=list(self.sizes.data or []),
            categories=list(self.categories.data or []),
            services=split_words(self.services.data),
            keywords=split_words(self.keywords.data),
            field_code=(self.field_code.data or "").strip(),
            field_values=split_words(self.field_values.data),
        )


def rule_form_data(data: admin_routing.RuleInput) -> dict:
    return {
        "name": data.name,
        "priority": str(data.priority),
        "bureau": data.bureau,
        "active": data.active,
        "townships": data.townships,
        "industries": data.industries,
        "sizes": data.sizes,
        "categories": data.categories,
        "services": "\n".join(data.services),
        "keywords": "\n".join(data.keywords),
        "field_code": data.field_code,
        "field_values": "，".join(data.field_values),
    }


class RouteTestForm(FlaskForm):
    township = SelectField(
        _l("企业所在乡镇（街道）"),
        choices=choices(((t, t) for t in reference.TOWNSHIPS), _l("不限")),
        validate_choice=False,
    )
    industry = SelectField(
        _l("企业所属行业"), choices=label_choices(reference.INDUSTRIES, _l("不限")), validate_choice=False
    )
    size = SelectField(_l("企业规模"), choices=label_choices(reference.SIZES, _l("不限")), validate_choice=False)
    service = SelectField(_l("申请的服务"), validate_choice=False)
    description = TextAreaField(_l("情况说明"), validators=[_max(5000)])
    attributes = TextAreaField(_l("申请字段取值"), validators=[_max(5000)])

    def to_input(self) -> route_tester.RouteQuestion:
        return route_tester.RouteQuestion(
            township=self.township.data or "",
            industry=self.industry.data or "",
            size=self.size.data or "",
            service=self.service.data or "",
            description=self.description.data or "",
            attributes=route_tester.parse_attributes(self.attributes.data),
        )


# --------------------------------------------------------------------------- bundles
class BundleForm(FlaskForm):
    code = StringField(_l("套餐编码"), validators=[_max(32)])
    name = StringField(_l("套餐名称"), validators=[_max(200)])
    description = TextAreaField(_l("说明"), validators=[_max(2000)])
    published = BooleanField(_l("发布（企业可在“一件事一次办”中申请）"), default=True)
    services = TextAreaField(_l("包含的服务（按办理顺序，每行一个服务编码）"), validators=[_max(2000)])

    def to_input(self) -> admin_bundles.BundleInput:
        return admin_bundles.BundleInput(
            code=(self.code.data or "").strip(),
            name=self.name.data or "",
            description=self.description.data or "",
            published=bool(self.published.data),
            services=split_words(self.services.data),
        )


# --------------------------------------------------------------------------- accounts
STAFF_ROLE_CHOICES = [(r, admin_staff.ROLE_LABELS[r]) for r in admin_staff.STAFF_ROLES]  # labels: msgids


class StaffCreateForm(FlaskForm):
    username = StringField(_l("用户名（登录名）"), validators=[DataRequired(_l("请填写用户名")), _max(64)])
    display_name = StringField(_l("姓名"), validators=[_max(100)])
    email = EmailField(_l("电子邮箱"), validators=[Optional(), _max(254)])
    role = SelectField(_l("角色"), choices=label_choices(STAFF_ROLE_CHOICES, _l("请选择")), validate_choice=False)
    bureau = SelectField(_l("所属单位"), validate_choice=False)
    password = PasswordField(_l("初始密码"), validators=[DataRequired(_l("请设置初始密码")), _max(128)])
    confirm = PasswordField(_l("再次输入密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])

    def to_input(self) -> admin_staff.StaffInput:
        return admin_staff.StaffInput(
            username=(self.username.data or "").strip(),
            role=self.role.data or "",
            bureau=self.bureau.data or "",
            display_name=self.display_name.data or "",
            email=self.email.data or "",
            password=self.password.data or "",
        )


class StaffEditForm(FlaskForm):
    display_name = StringField(_l("姓名"), validators=[_max(100)])
    email = EmailField(_l("电子邮箱"), validators=[Optional(), _max(254)])
    role = SelectField(_l("角色"), choices=label_choices(STAFF_ROLE_CHOICES), validate_choice=False)
    bureau = SelectField(_l("所属单位"), validate_choice=False)

    def to_input(self) -> admin_staff.StaffChange:
        return admin_staff.StaffChange(
            role=self.role.data or "",
            bureau=self.bureau.data or "",
            display_name=self.display_name.data or "",
            email=self.email.data or "",
        )


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请设置新密码")), _max(128)])
    confirm = PasswordField(_l("再次输入新密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


def set_bureau_choices(field: SelectField, bureaus, prompt: str | None = None) -> None:
    field.choices = choices(bureau_pairs(bureaus), _("无") if prompt is None else prompt)


# --------------------------------------------------------------------------- holidays
class HolidayForm(FlaskForm):
    day = StringField(_l("日期"), render_kw={"type": "date"}, validators=[_max(20)])
    kind = RadioField(
        _l("这一天"),
        # SelectChoice directly: portal.formtools.choices would turn the lazy labels into text at import.
        choices=[
            SelectChoice("holiday", _l("放假（不计工作日）")),
            SelectChoice("workday", _l("上班（调休补班，计工作日）")),
        ],
        default="holiday",
        validate_choice=False,
    )
    note = StringField(_l("说明"), validators=[_max(100)])

    def is_workday(self) -> bool | None:
        return {"holiday": False, "workday": True}.get(self.kind.data or "")
