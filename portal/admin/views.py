"""Admin console pages. Each view parses its form, calls one services function (the overview,
audit log, bureaus, guides, bundles, routing rules, staff accounts, holidays) and renders or
redirects; every rule lives in those services."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import login_required
from portal.admin import bp
from portal.admin.forms import (
    BundleForm,
    BureauForm,
    CategoryForm,
    HolidayForm,
    PasswordResetForm,
    RouteTestForm,
    RuleForm,
    ServiceForm,
    StaffCreateForm,
    StaffEditForm,
    apply_field_op,
    bureau_pairs,
    error_list,
    rule_form_data,
    service_form_data,
    set_bureau_choices,
    set_service_choices,
    show_guide_errors,
)
from portal.errors import REFUSED
from portal.extensions import db
from portal.formtools import choices
from portal.formtools import show_errors as _show_errors
from portal.params import MAX_PAGE, parse_int
from portal.texts import audit_labels, labels, translated
from portal.texts import message as _message  # what a service refused, in the page language
from services import admin
from services import audit as admin_audit
from services.accounts import reference
from services.accounts import staff as admin_staff
from services.catalog import bundles as admin_bundles
from services.catalog import bureaus as admin_bureaus
from services.catalog import guides as admin_guides
from services.catalog import records as catalog
from services.catalog.field_types import DATATYPE_NAMES
from services.core.errors import NotFound, ServiceError, ValidationFailed
from services.core.roles import ADMINS
from services.requests import routing_admin as admin_routing
from services.requests import routing_tester as route_tester
from services.tickets import holidays as admin_holidays

ADMIN = ADMINS


def _user():
    return current_user._get_current_object()


def show_errors(form, exc: ValidationFailed) -> None:
    """portal.formtools.show_errors with the services' messages in the page language."""
    _show_errors(form, translated(exc))


def _status(form) -> int:
    return 422 if error_list(form) else 200


def _or_404(fn, *args):
    """The record from one of the admin `get_…` services; its NotFound is the 404 page
    (portal/errors.py)."""
    return fn(db.session, *args)


def _delete(delete, key, done: str, back: str, back_args: dict, listing: str):
    """Run one of the admin delete services: 404 when the thing is gone (portal/errors.py), back
    to its edit page with the reason when it may not be deleted (still in use), to the listing
    when done."""
    try:
        delete(db.session, _user(), key)
    except REFUSED as exc:
        flash(_message(exc), "error")
        return redirect(url_for(back, **back_args))
    flash(done, "success")
    return redirect(url_for(listing))


# =========================================================================== home, audit
@bp.get("/")
@login_required(ADMIN)
def index():
    return render_template("admin/home.html", o=admin.overview(db.session), roles=labels(admin_staff.ROLE_LABELS))


@bp.get("/audit")
@login_required(ADMIN)
def audit():
    result = admin_audit.list_audit(
        db.session,
        entity=request.args.get("entity") or None,
        key=request.args.get("key") or None,
        page=parse_int(request.args, "page", 1, 1, MAX_PAGE),  # ParamError: 400 (portal/errors.py)
    )
    return render_template("admin/audit.html", result=result, entities=audit_labels(admin_audit.ENTITY_LABELS))


# =========================================================================== bureaus
@bp.get("/bureaus")
@login_required(ADMIN)
def bureaus():
    return render_template("admin/bureaus.html", rows=admin_bureaus.list_bureaus(db.session))


@bp.route("/bureaus/new", methods=["GET", "POST"])
@login_required(ADMIN)
def bureau_new():
    form = BureauForm()
    if form.validate_on_submit():
        try:
            bureau = admin_bureaus.create_bureau(db.session, _user(), form.to_input())
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("已新增单位“%(name)s”。", name=bureau.name), "success")
            return redirect(url_for("admin.bureaus"))
    return render_template(
        "admin/bureau_form.html", form=form, bureau=None, errors=error_list(form)
    ), _status(form)


@bp.route("/bureaus/<code>", methods=["GET", "POST"])
@login_required(ADMIN)
def bureau_edit(code: str):
    bureau = _or_404(admin_bureaus.get_bureau, code)
    form = BureauForm(obj=bureau) if request.method == "GET" else BureauForm()
    if form.validate_on_submit():
        try:
            admin_bureaus.update_bureau(db.session, _user(), code, form.to_input())
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("已保存单位“%(name)s”。", name=bureau.name), "success")
            return redirect(url_for("admin.bureaus"))
    return render_template(
        "admin/bureau_form.html",
        form=form,
        bureau=bureau,
        errors=error_list(form),
        refs=admin_bureaus.bureau_references(db.session, bureau),
    ), _status(form)


@bp.post("/bureaus/<code>/delete")
@login_required(ADMIN)
def bureau_delete(code: str):
    return _delete(admin_bureaus.delete_bureau, code, _("已删除单位 %(code)s。", code=code), "admin.bureau_edit",
                   {"code": code}, "admin.bureaus")


# =========================================================================== categories
@bp.get("/categories")
@login_required(ADMIN)
def categories():
    return render_template("admin/categories.html", rows=admin_bureaus.list_categories(db.session))


@bp.route("/categories/<code>", methods=["GET", "POST"])
@login_required(ADMIN)
def category_edit(code: str):
    category = _or_404(admin_bureaus.get_category, code)
    form = (
        CategoryForm(
            data={
                "name": category.name,
                "name_en": category.name_en,
                "description": category.description,
                "position": str(category.position),
            }
        )
        if request.method == "GET"
        else CategoryForm()
    )
    if form.validate_on_submit():
        try:
            admin_bureaus.update_category(db.session, _user(), code, form.to_input())
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("已保存服务类别“%(name)s”。", name=category.name), "success")
            return redirect(url_for("admin.categories"))
    return render_template(
        "admin/category_form.html", form=form, category=category, errors=error_list(form)
    ), _status(form)


# =========================================================================== services
@bp.get("/services")
@login_required(ADMIN)
def services():
    args = request.args
    error = None
    try:
        result = admin_guides.list_services(
            db.session,
            category=args.get("category") or None,
            bureau=args.get("bureau") or None,
            status=args.get("status") or None,
            q=args.get("q") or None,
        )
    except ValidationFailed as exc:
        error, result = _message(exc), None
    return render_template(
        "admin/services.html",
        result=result,
        error=error,
        categories=admin_bureaus.known_categories(db.session),
        bureaus=admin_bureaus.known_bureaus(db.session),
        statuses=labels(admin_guides.STATUS_LABELS),
        status_of=admin_guides.service_status,
    ), (400 if error else 200)


def _render_service(form: ServiceForm, service=None, note: str = "", status: int | None = None):
    set_service_choices(form, admin_bureaus.known_categories(db.session), admin_bureaus.known_bureaus(db.session))
    ctx = {}
    if service is not None:
        ctx = {
            "refs": admin_guides.service_references(db.session, service),
            "state": admin_guides.service_status(service),
        }
    errors = error_list(form)
    return render_template(
        "admin/service_form.html",
        form=form,
        service=service,
        errors=errors,
        note=note,
        datatypes=labels(DATATYPE_NAMES),
        statuses=labels(admin_guides.STATUS_LABELS),
        **ctx,
    ), (status or (422 if errors else 200))


def _service_post(form: ServiceForm, code: str | None):
    """Handle a POST of the service form: a row operation, or a save. Returns a response."""
    service = admin_guides.get_service(db.session, code) if code else None
    op = apply_field_op(form, request.form.get("field_op", ""))
    if op is not None:
        rebuilt, note = op
        return _render_service(rebuilt, service, note)
    set_service_choices(form, admin_bureaus.known_categories(db.session), admin_bureaus.known_bureaus(db.session))
    if form.validate_on_submit():
        data, row_map = form.to_input()
        try:
            result = admin_guides.save_service(db.session, _user(), data, code=code)
        except admin_guides.GuideRejected as exc:
            show_guide_errors(form, exc, row_map)
        else:
            name, code = result.service.name, result.service.code
            if result.created and result.service.is_public:
                flash(_("已新增服务“%(name)s”（%(code)s）并发布到服务目录。", name=name, code=code), "success")
            elif result.created:
                flash(_("已新增服务“%(name)s”（%(code)s），尚未发布。", name=name, code=code), "success")
            elif result.changed and result.restored:
                flash(_("已保存“%(name)s”，并已恢复到服务目录。", name=name), "success")
            elif result.changed:
                flash(_("已保存“%(name)s”。", name=name), "success")
            else:
                flash(_("没有修改任何内容。"), "info")
            return redirect(url_for("admin.service_edit", code=result.service.code))
    return _render_service(form, service)


@bp.route("/services/new", methods=["GET", "POST"])
@login_required(ADMIN)
def service_new():
    if request.method == "POST":
        return _service_post(ServiceForm(), None)
    form = ServiceForm()
    form.fields.append_entry()
    return _render_service(form)


@bp.route("/services/<code>", methods=["GET", "POST"])
@login_required(ADMIN)
def service_edit(code: str):
    service = _or_404(admin_guides.get_service, code)
    if request.method == "POST":
        return _service_post(ServiceForm(), code)
    form = ServiceForm(data=service_form_data(catalog.service_record(service)))
    return _render_service(form, service)


@bp.post("/services/<code>/publish")
@login_required(ADMIN)
def service_publish(code: str):
    publish = request.form.get("published") == "1"
    service = admin_guides.set_published(db.session, _user(), code, publish)
    if publish:
        flash(_("“%(name)s”已发布到服务目录。", name=service.name), "success")
    else:
        flash(_("“%(name)s”已下架，不再出现在服务目录和搜索中。", name=service.name), "success")
    return redirect(url_for("admin.service_edit", code=code))


@bp.post("/services/<code>/delete")
@login_required(ADMIN)
def service_delete(code: str):
    return _delete(admin_guides.delete_service, code, _("已删除服务 %(code)s。", code=code), "admin.service_edit",
                   {"code": code}, "admin.services")


# =========================================================================== routing rules
@bp.get("/rules")
@login_required(ADMIN)
def rules():
    rows = admin_routing.list_rules(db.session)
    services = {s.code: s for s in admin_guides.service_choices(db.session)}
    used = {(r.rule.conditions or {}).get("field", {}).get("code") for r in rows} - {None}
    fields = {f.code: f for s in services.values() if used for f in s.fields if f.code in used}
    return render_template(
        "admin/rules.html",
        rows=rows,
        labels=labels(admin_routing.CONDITION_LABELS),
        industries=labels(dict(reference.INDUSTRIES)),
        sizes=labels(dict(reference.SIZES)),
        categories={c.code: c for c in admin_bureaus.known_categories(db.session)},
        services=services,
        fields=fields,
    )


def _render_rule(form: RuleForm, row=None):
    form.bureau.choices = choices(bureau_pairs(admin_bureaus.known_bureaus(db.session)), _("请选择"))
    form.categories.choices = choices(admin_routing.category_pairs(db.session))
    errors = error_list(form)
    return render_template(
        "admin/rule_form.html",
        form=form,
        row=row,
        errors=errors,
        services=admin_guides.service_choices(db.session),
    ), (422 if errors else 200)


def _save_rule(form: RuleForm, rule_id: int | None):
    try:
        row = admin_routing.save_rule(db.session, _user(), form.to_input(), rule_id=rule_id)
    except ValidationFailed as exc:
        show_errors(form, exc)
        return None
    if row.check.warnings:
        flash(
            _("已保存分办规则“%(name)s”，但它有 %(n)s 条警告，请查看。", name=row.rule.name, n=len(row.check.warnings)),
            "error",
        )
        return redirect(url_for("admin.rule_edit", rule_id=row.rule.id))
    flash(_("已保存分办规则“%(name)s”。", name=row.rule.name), "success")
    return redirect(url_for("admin.rules"))


@bp.route("/rules/new", methods=["GET", "POST"])
@login_required(ADMIN)
def rule_new():
    form = RuleForm()
    if form.validate_on_submit():
        done = _save_rule(form, None)
        if done is not None:
            return done
    return _render_rule(form)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@login_required(ADMIN)
def rule_edit(rule_id: int):
    row = _or_404(admin_routing.get_rule, rule_id)
    if request.method == "GET":
        return _render_rule(RuleForm(data=rule_form_data(admin_routing.rule_input(row.rule))), row)
    form = RuleForm()
    if form.validate_on_submit():
        done = _save_rule(form, rule_id)
        if done is not None:
            return done
    return _render_rule(form, row)


@bp.post("/rules/<int:rule_id>/active")
@login_required(ADMIN)
def rule_active(rule_id: int):
    active = request.form.get("active") == "1"
    rule = admin_routing.set_rule_active(db.session, _user(), rule_id, active)
    if active:
        flash(_("已启用分办规则“%(name)s”。", name=rule.name), "success")
    else:
        flash(_("已停用分办规则“%(name)s”。", name=rule.name), "success")
    return redirect(url_for("admin.rules"))


@bp.post("/rules/<int:rule_id>/delete")
@login_required(ADMIN)
def rule_delete(rule_id: int):
    return _delete(admin_routing.delete_rule, rule_id, _("已删除分办规则。"), "admin.rule_edit",
                   {"rule_id": rule_id}, "admin.rules")


@bp.route("/rules/test", methods=["GET", "POST"])
@login_required(ADMIN)
def rule_test():
    form = RouteTestForm()
    services = admin_guides.service_choices(db.session)
    form.service.choices = choices(
        ((s.code, f"{s.code} {s.name}") for s in services), _("不指定服务（我有需求）")
    )
    result = error = None
    if form.validate_on_submit():
        try:
            result = route_tester.explain_route(db.session, form.to_input())
        except ValidationFailed as exc:
            show_errors(form, exc)
        except ServiceError as exc:
            error = _message(exc)
    errors = error_list(form)
    selected = next((s for s in services if s.code == form.service.data), None)
    return render_template(
        "admin/rule_test.html",
        form=form,
        result=result,
        error=error,
        errors=errors,
        selected=selected,
        labels=labels(admin_routing.CONDITION_LABELS),
        datatypes=labels(DATATYPE_NAMES),
    ), (422 if errors or error else 200)


# =========================================================================== bundles
@bp.get("/bundles")
@login_required(ADMIN)
def bundles():
    return render_template("admin/bundles.html", rows=admin_bundles.list_bundles(db.session))


def _render_bundle(form: BundleForm, bundle=None):
    errors = error_list(form)
    warnings = admin_bundles.bundle_warnings(bundle) if bundle is not None else []
    return render_template(
        "admin/bundle_form.html",
        form=form,
        bundle=bundle,
        errors=errors,
        warnings=warnings,
        services=admin_guides.service_choices(db.session),
    ), (422 if errors else 200)


@bp.route("/bundles/new", methods=["GET", "POST"])
@login_required(ADMIN)
def bundle_new():
    form = BundleForm()
    if form.validate_on_submit():
        try:
            bundle = admin_bundles.save_bundle(db.session, _user(), form.to_input())
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("已新增一件事套餐“%(name)s”。", name=bundle.name), "success")
            return redirect(url_for("admin.bundles"))
    return _render_bundle(form)


@bp.route("/bundles/<code>", methods=["GET", "POST"])
@login_required(ADMIN)
def bundle_edit(code: str):
    bundle = _or_404(admin_bundles.get_bundle, code)
    if request.method == "GET":
        record = admin_bundles.bundle_record(bundle)
        return _render_bundle(BundleForm(data={**record, "services": "\n".join(record["services"])}), bundle)
    form = BundleForm()
    if form.validate_on_submit():
        try:
            admin_bundles.save_bundle(db.session, _user(), form.to_input(), code=code)
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("已保存一件事套餐“%(name)s”。", name=bundle.name), "success")
            return redirect(url_for("admin.bundles"))
    return _render_bundle(form, bundle)


@bp.post("/bundles/<code>/delete")
@login_required(ADMIN)
def bundle_delete(code: str):
    return _delete(admin_bundles.delete_bundle, code, _("已删除一件事套餐 %(code)s。", code=code), "admin.bundle_edit",
                   {"code": code}, "admin.bundles")


# =========================================================================== accounts
@bp.get("/users")
@login_required(ADMIN)
def users():
    args = request.args
    error = None
    active = {"1": True, "0": False}.get(args.get("active", ""))
    try:
        rows = admin_staff.list_users(
            db.session,
            role=args.get("role") or None,
            bureau=args.get("bureau") or None,
            active=active,
            q=args.get("q") or None,
        )
    except (ValidationFailed, NotFound) as exc:
        error, rows = _message(exc), []
    return render_template(
        "admin/users.html",
        rows=rows,
        error=error,
        roles=labels(admin_staff.ROLE_LABELS),
        bureaus=admin_bureaus.known_bureaus(db.session),
    ), (400 if error else 200)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required(ADMIN)
def user_new():
    form = StaffCreateForm()
    set_bureau_choices(form.bureau, admin_bureaus.known_bureaus(db.session))
    if form.validate_on_submit():
        try:
            user = admin_staff.create_staff(db.session, _user(), form.to_input())
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(
                _(
                    "已创建账号 %(username)s（%(role)s）。请把初始密码当面或电话告知本人。",
                    username=user.username,
                    role=labels(admin_staff.ROLE_LABELS)[user.role],
                ),
                "success",
            )
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_new.html", form=form, errors=error_list(form)), _status(form)


def _render_user(user, form: StaffEditForm | None = None, password_form: PasswordResetForm | None = None):
    form = form or StaffEditForm(
        data={
            "display_name": user.display_name,
            "email": user.email,
            "role": user.role,
            "bureau": user.bureau.code if user.bureau else "",
        },
        formdata=None,
    )
    set_bureau_choices(form.bureau, admin_bureaus.known_bureaus(db.session))
    password_form = password_form or PasswordResetForm(formdata=None, prefix="pw")
    errors = error_list(form) + error_list(password_form)
    return render_template(
        "admin/user_edit.html",
        user=user,
        form=form,
        password_form=password_form,
        errors=errors,
        roles=labels(admin_staff.ROLE_LABELS),
    ), (422 if errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required(ADMIN)
def user_edit(user_id: int):
    user = _or_404(admin_staff.get_user, user_id)
    if request.method == "GET":
        return _render_user(user)
    form = StaffEditForm()
    set_bureau_choices(form.bureau, admin_bureaus.known_bureaus(db.session))
    if form.validate_on_submit():
        try:
            admin_staff.update_staff(db.session, _user(), user_id, form.to_input())
        except ValidationFailed as exc:
            show_errors(form, exc)
        except ServiceError as exc:
            form.form_errors.append(_message(exc))
        else:
            flash(_("已保存账号 %(username)s。", username=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user_id))
    return _render_user(user, form=form)


@bp.post("/users/<int:user_id>/active")
@login_required(ADMIN)
def user_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        user = admin_staff.set_user_active(db.session, _user(), user_id, active)
    except REFUSED as exc:
        flash(_message(exc), "error")
    else:
        if active:
            flash(_("已启用账号 %(username)s。", username=user.username), "success")
        else:
            flash(_("已停用账号 %(username)s。该账号不能再登录，API 令牌也随之失效。", username=user.username),
                  "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@login_required(ADMIN)
def user_password(user_id: int):
    user = _or_404(admin_staff.get_user, user_id)
    form = PasswordResetForm(prefix="pw")
    if form.validate_on_submit():
        try:
            admin_staff.reset_password(db.session, _user(), user_id, form.password.data or "")
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            flash(_("已为 %(username)s 设置新密码，请告知本人登录后自行修改。", username=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user_id))
    return _render_user(user, password_form=form)


# =========================================================================== holidays
@bp.get("/holidays")
@login_required(ADMIN)
def holidays():
    page = admin_holidays.holiday_page(db.session, parse_int(request.args, "year", None, 1, 9999))
    form = HolidayForm(formdata=None)
    return _render_holidays(page, form)


def _render_holidays(page, form: HolidayForm):
    errors = error_list(form)
    return render_template("admin/holidays.html", page=page, form=form, errors=errors), (
        422 if errors else 200
    )


@bp.post("/holidays")
@login_required(ADMIN)
def holiday_add():
    form = HolidayForm()
    day = admin_holidays.parse_day(form.day.data)
    if form.validate_on_submit():
        try:
            admin_holidays.add_holiday(db.session, _user(), day, form.is_workday(), form.note.data or "")
        except ValidationFailed as exc:
            show_errors(form, exc)
        else:
            assert day is not None  # add_holiday refuses a missing or unreadable day
            if form.is_workday():
                flash(_("已设置 %(day)s 为上班日。", day=day.isoformat()), "success")
            else:
                flash(_("已设置 %(day)s 为放假日。", day=day.isoformat()), "success")
            return redirect(url_for("admin.holidays", year=day.year))
    page = admin_holidays.holiday_page(db.session, day.year if day else None)
    return _render_holidays(page, form)


@bp.post("/holidays/<day>/delete")
@login_required(ADMIN)
def holiday_delete(day: str):
    parsed = admin_holidays.parse_day(day)
    if parsed is None:
        abort(404)
    admin_holidays.remove_holiday(db.session, _user(), parsed)
    flash(_("已删除 %(day)s 的调整，这一天按官方日历计算。", day=parsed.isoformat()), "success")
    return redirect(url_for("admin.holidays", year=parsed.year))
