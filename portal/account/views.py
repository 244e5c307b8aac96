from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.access import login_required, public
from portal.account import bp
from portal.account.forms import (
    EmptyForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    ResetForm,
    ResetRequestForm,
    TokenForm,
)
from portal.extensions import db, limiter
from portal.formtools import show_errors, text, validate_all
from portal.i18n import safe_next
from portal.links import public_url
from portal.security import LOGIN_LIMIT, REGISTER_LIMIT, RESET_LIMIT
from portal.texts import tr, translated
from services.accounts import users as accounts
from services.core import roles
from services.core.errors import ServiceError, ValidationFailed
from services.tickets import notify


def _profile(form: ProfileForm, uscc: str = "") -> accounts.EnterpriseProfile:
    return accounts.EnterpriseProfile(company=text(form.company), uscc=uscc, contact_name=text(form.contact_name),
                                      mobile=form.mobile.data or "", email=form.email.data or "",
                                      township=form.township.data or "", industry=form.industry.data or "",
                                      size=form.size.data or "")


def _password_hint() -> str:
    """The password rule as services.accounts enforces it, in the page language."""
    return tr(accounts.password_rule())


def landing(user) -> str:
    """Where an account starts after logging in: its own work, not the public home page."""
    if user.role == roles.ENTERPRISE:
        return url_for("requests.my_requests")
    if user.role == roles.ADMIN:
        return url_for("admin.index")
    if user.role in roles.STAFF:
        return url_for("staff.queue")
    return url_for("public.home")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_LIMIT, methods=["POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    form = RegisterForm()
    if validate_all(form, lambda: accounts.registration_problems(db.session, _profile(form, text(form.uscc)),
                                                                 text(form.password))):
        try:
            user = accounts.register_enterprise(db.session, _profile(form, text(form.uscc)), text(form.password))
        except ValidationFailed as exc:
            show_errors(form, translated(exc))
        else:
            login_user(user)
            flash(_("注册成功，欢迎使用。您的登录账号是统一社会信用代码 %(code)s。", code=user.username), "success")
            return redirect(safe_next(request.args.get("next"), url_for("requests.my_requests")))
    uscc_taken = _(accounts.USCC_TAKEN) in (form.uscc.errors or [])  # offer 登录 / 找回密码 beside it
    return render_template("account/register.html", form=form, password_hint=_password_hint(),
                           uscc_taken=uscc_taken), (422 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), landing(current_user)))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db.session, text(form.login), text(form.password))
        except accounts.LoginRefused as exc:
            form.form_errors.append(tr(exc.message))
            status = 401
        else:
            login_user(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next"), landing(user)))
    elif form.errors:
        status = 422
    return render_template("account/login.html", form=form), status


@bp.post("/logout")
@login_required()
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("您已安全退出。"), "success")
    return redirect(url_for("public.home"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"])
@public
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(db.session, current_app.config["SECRET_KEY"], text(form.login),
                                        public_url("account.reset", token="TOKEN"))
        flash(_("如果该账号存在并登记了邮箱，我们已发送重设密码的邮件，请在 1 小时内查收。"), "success")
        return redirect(url_for("account.login"))
    return render_template("account/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str):
    form = ResetForm()
    try:
        valid = validate_all(form, lambda: accounts.reset_problems(db.session, current_app.config["SECRET_KEY"],
                                                                   token, text(form.password)))
    except ServiceError as exc:  # the link itself is bad: no point in fixing the password
        flash(tr(exc.message), "error")
        return redirect(url_for("account.reset_request"))
    if valid:
        try:
            accounts.reset_password(db.session, current_app.config["SECRET_KEY"], token, text(form.password))
        except ValidationFailed as exc:
            show_errors(form, translated(exc))
        except ServiceError as exc:
            flash(tr(exc.message), "error")
            return redirect(url_for("account.reset_request"))
        else:
            flash(_("密码已重设，请用新密码登录。"), "success")
            return redirect(url_for("account.login"))
    return render_template("account/reset.html", form=form, password_hint=_password_hint()), \
        (422 if form.errors else 200)


def _render_profile(form: ProfileForm, password_form: PasswordForm, status: int = 200):
    user = current_user._get_current_object()
    return render_template("account/profile.html", form=form, user=user, password_form=password_form,
                           password_hint=_password_hint(), tokens=accounts.active_tokens(db.session, user),
                           token_form=TokenForm(prefix="tk"), empty_form=EmptyForm()), status


def _profile_form(enterprise, posted: bool = True) -> ProfileForm:
    """The profile form: bound to what was posted, or (GET, or another form posted) the saved profile."""
    posted = posted and request.method == "POST"
    form = ProfileForm() if posted else ProfileForm(formdata=None)
    if not posted and enterprise is not None:
        form.company.data, form.contact_name.data = enterprise.name, enterprise.contact_name
        form.mobile.data, form.email.data = enterprise.mobile, enterprise.email
        form.township.data, form.industry.data = enterprise.township, enterprise.industry
        form.size.data = enterprise.size
    return form


@bp.route("/profile", methods=["GET", "POST"])
@login_required()
def profile():
    user = current_user._get_current_object()
    enterprise = user.enterprise
    form = _profile_form(enterprise)
    if enterprise is not None and validate_all(form, lambda: accounts.profile_problems(_profile(form))):
        try:
            accounts.update_profile(db.session, user, _profile(form))
        except ValidationFailed as exc:
            show_errors(form, translated(exc))
        else:
            flash(_("企业资料已保存。"), "success")
            return redirect(url_for("account.profile"))
    return _render_profile(form, PasswordForm(prefix="pw"), 422 if form.errors else 200)


@bp.post("/password")
@login_required()
def change_password():
    """Every problem is shown beside its field on the account page (the form is not lost)."""
    user = current_user._get_current_object()
    form = PasswordForm(prefix="pw")
    if validate_all(form, lambda: accounts.password_change_problems(user, text(form.current_password),
                                                                    text(form.new_password))):
        try:
            accounts.change_password(db.session, user, text(form.current_password), text(form.new_password))
        except ValidationFailed as exc:
            show_errors(form, translated(exc))
        else:
            flash(_("密码已修改。"), "success")
            return redirect(url_for("account.profile") + "#password")
    return _render_profile(_profile_form(user.enterprise, posted=False), form, 422)


@bp.post("/tokens")
@login_required()
def create_token():
    form = TokenForm(prefix="tk")
    if form.validate_on_submit():
        token = accounts.issue_token(db.session, current_user._get_current_object(), form.name.data or "")
        return render_template("account/token_created.html", token=token)
    flash(_("表单已过期，请重试。"), "error")
    return redirect(url_for("account.profile") + "#tokens")


@bp.post("/tokens/<int:token_id>/revoke")
@login_required()
def revoke_token(token_id: int):
    if EmptyForm().validate_on_submit():  # someone else's or no such token: NotFound, the 404 page
        accounts.revoke_token(db.session, current_user._get_current_object(), token_id)
        flash(_("令牌已作废。"), "success")
    return redirect(url_for("account.profile") + "#tokens")


@bp.get("/notifications")
@login_required()
def notifications():
    user = current_user._get_current_object()
    items = notify.recent(db.session, user)
    unread = {n.id for n in items if n.read_at is None}
    return render_template("account/notifications.html", items=items, unread_ids=unread, form=EmptyForm())


@bp.post("/notifications/read")
@login_required()
def notifications_read():
    if EmptyForm().validate_on_submit():
        notify.mark_all_read(db.session, current_user._get_current_object())
    return redirect(url_for("account.notifications"))
