from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.access import ENTERPRISE, login_required, public
from portal.errors import REFUSED
from portal.extensions import db, limiter, search
from portal.formtools import show_errors, text, validate_all
from portal.params import MAX_PAGE, parse_int
from portal.requests import bp
from portal.requests.forms import (
    ConfirmForm,
    InfoForm,
    NeedForm,
    ProgressForm,
    RatingForm,
    WithdrawForm,
    build_apply_form,
    new_key,
)
from portal.security import LOOKUP_LIMIT
from portal.texts import message as refusal
from portal.texts import tr, translated
from services import policy
from services.catalog import directory
from services.core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from services.requests import actions as request_actions
from services.requests import fields as request_fields
from services.requests import reading, uploads
from services.requests import submission as reqsvc
from services.tickets import deadlines, ratings, workdays, workflow

SELECTION_KEYS = ("services", "bundle")


def _user():
    return current_user._get_current_object()


def _selection(source: MultiDict):
    """The services asked for (by ?services=… or ?bundle=…) and the bundle, if any."""
    bundle_code = (source.get("bundle") or "").strip() or None
    bundle = reading.get_bundle(db.session, bundle_code) if bundle_code else None
    codes = [i.service.code for i in bundle.items] if bundle else source.getlist("services")
    return reqsvc.load_services(db.session, codes), bundle


def _attributes(form, groups) -> dict[str, dict]:
    return request_fields.attributes(groups, {g.name: form[g.name].data for g in groups})


def _submission(form, groups, services, bundle, files=()) -> reqsvc.Submission:
    return reqsvc.Submission(
        services=[s.code for s in services], attributes=_attributes(form, groups),
        description=form.description.data or "", contact_name=form.contact_name.data or "",
        contact_mobile=form.contact_mobile.data or "", contact_email=form.contact_email.data or "",
        idempotency_key=form.idempotency_key.data or "", bundle=bundle.code if bundle else None,
        files=[uploads.Incoming(f.filename or "", f.stream) for f in files])


def _show_service_errors(form, groups, exc: ValidationFailed) -> None:
    show_errors(form, translated(ValidationFailed(request_fields.group_problems(groups, exc.fields))))


def _render_apply(form, groups, services, bundle, status: int = 200):
    shared, own = request_fields.sections(groups, services)
    return render_template("requests/apply.html", form=form, groups=groups, services=services, bundle=bundle,
                           shared=shared, own=own), status


def _selection_or_error(source: MultiDict):
    """((services, bundle), None), or (None, (message, status)) for the "cannot apply" page:
    an unknown service or bundle (404) or one that cannot be applied for (422)."""
    try:
        return _selection(source), None
    except (NotFound, ValidationFailed) as exc:
        return None, (refusal(exc), exc.status)


def _selection_problem(message: str, status: int):
    return render_template("requests/cannot_apply.html", message=message), status


class _Posted:
    """The services an application form is for, its field groups and the bound form."""

    def __init__(self, services, bundle):
        self.services, self.bundle = services, bundle
        self.groups = request_fields.field_groups(services)
        self.form = build_apply_form(self.groups)

    def submission(self, files=()) -> reqsvc.Submission:
        return _submission(self.form, self.groups, self.services, self.bundle, files)

    def problems(self) -> dict[str, str]:
        """What prepare would refuse in these answers (nothing is written), by form field."""
        try:
            reqsvc.prepare(db.session, _user(), self.submission())
        except ValidationFailed as exc:
            return request_fields.group_problems(self.groups, exc.fields)
        return {}

    def render_form(self, status: int = 200):
        return _render_apply(self.form, self.groups, self.services, self.bundle, status)

    def render_preview(self, prepared, status: int = 200, upload_error: str | None = None):
        return render_template("requests/preview.html", prepared=prepared, form=self.form, groups=self.groups,
                               hidden=_hidden_fields(), confirm=ConfirmForm(), upload_error=upload_error), status


def _posted():
    """(_Posted, None) for a posted application form, or (None, error response)."""
    selected, problem = _selection_or_error(request.form)
    if problem:
        return None, _selection_problem(*problem)
    return _Posted(*selected), None


@bp.get("/apply")
@login_required(ENTERPRISE)
def apply():
    selected, problem = _selection_or_error(request.args)
    if problem:
        return _selection_problem(*problem)
    services, bundle = selected
    groups = request_fields.field_groups(services)
    e = _user().enterprise
    form = build_apply_form(groups, data={"idempotency_key": new_key(), "contact_name": e.contact_name,
                                          "contact_mobile": e.mobile, "contact_email": e.email})
    return _render_apply(form, groups, services, bundle)


@bp.post("/apply")
@login_required(ENTERPRISE)
def preview():
    """Check the answers and show them back, with the upload step and the confirm button."""
    posted, problem = _posted()
    if problem:
        return problem
    if request.form.get("edit"):  # "返回修改" from the preview: the same answers, editable again
        return posted.render_form()
    if validate_all(posted.form, posted.problems):  # every problem at once, the service fields' too
        try:
            prepared = reqsvc.prepare(db.session, _user(), posted.submission())
        except ValidationFailed as exc:
            _show_service_errors(posted.form, posted.groups, exc)
        else:
            return posted.render_preview(prepared)
    return posted.render_form(422)


def _hidden_fields() -> list[tuple[str, str]]:
    return [(k, v) for k, values in request.form.lists() if k != "csrf_token" for v in values]


@bp.post("/apply/confirm")
@login_required(ENTERPRISE)
def confirm():
    posted, problem = _posted()
    if problem:
        return problem
    if not validate_all(posted.form, posted.problems):
        return posted.render_form(422)
    sub = posted.submission(request.files.getlist("attachments"))
    try:
        req, created = reqsvc.submit(db.session, _user(), sub, current_app.config["UPLOAD_DIR"])
    except ValidationFailed as exc:
        if "attachments" in exc.fields and len(exc.fields) == 1:
            return posted.render_preview(reqsvc.prepare(db.session, _user(), sub), exc.status,
                                         tr(exc.fields["attachments"]))
        _show_service_errors(posted.form, posted.groups, exc)
        return posted.render_form(exc.status)
    if created:
        flash(_("申请已提交。申请编号 %(number)s，查询码 %(code)s（不登录也可凭这两项查询进度）。",
                number=req.number, code=req.query_code), "success")
    else:
        flash(_("这份申请已经提交过了，不会重复提交。"), "info")
    return redirect(url_for("requests.detail", number=req.number))


@bp.get("/bundles")
@public
def bundles():
    categories = directory.categories_with_counts(db.session)
    services = [s for s in directory.all_public_services(db.session) if s.online]
    return render_template("requests/bundles.html", bundles=reading.list_bundles(db.session),
                           categories=categories, services=services)


@bp.route("/need", methods=["GET", "POST"])
@login_required(ENTERPRISE)
def need():
    """我有需求: describe the problem, see matching services, or send it to the joint office."""
    e = _user().enterprise
    form = NeedForm(data=None if request.method == "POST" else {
        "idempotency_key": new_key(), "contact_name": e.contact_name, "contact_mobile": e.mobile,
        "contact_email": e.email, "description": (request.args.get("q") or "")[:200]})
    suggestions = None
    sending = request.form.get("action") == "send"

    def sub() -> reqsvc.Submission:
        return reqsvc.Submission(description=text(form.description), contact_name=text(form.contact_name),
                                 contact_mobile=text(form.contact_mobile), contact_email=form.contact_email.data or "",
                                 idempotency_key=form.idempotency_key.data or "")

    def problems() -> dict[str, str]:
        try:
            reqsvc.prepare(db.session, _user(), sub(), need=True)
        except ValidationFailed as exc:
            return exc.fields
        return {}

    if validate_all(form, problems if sending else None):
        if sending:
            try:
                req, created = reqsvc.submit(db.session, _user(), sub(), current_app.config["UPLOAD_DIR"], need=True)
            except ValidationFailed as exc:
                show_errors(form, translated(exc))
            else:
                if created:
                    flash(_("需求已提交给质量强县工作联席会议办公室，将为您分办到对口部门。"
                            "申请编号 %(number)s，查询码 %(code)s。", number=req.number, code=req.query_code),
                          "success")
                return redirect(url_for("requests.detail", number=req.number))
        else:
            # The whole need, every meaningful word OR-ed, ranked by the search engine (search_index/needs.py).
            suggestions = directory.search_services(db.session, search.index.needs, text(form.description),
                                                    per_page=5).hits
    return render_template("requests/need.html", form=form, suggestions=suggestions), (422 if form.errors else 200)


@bp.get("/my/requests")
@login_required(ENTERPRISE)
def my_requests():
    status = request.args.get("status") or None
    if status and status not in workflow.LABELS:
        status = None
    page = parse_int(request.args, "page", 1, 1, MAX_PAGE)  # ParamError: 400 (portal/errors.py)
    rows, total = reading.my_requests(db.session, _user(), status=status, page=page)
    return render_template("requests/my_requests.html", rows=rows, total=total, status=status, page=page,
                           per_page=20, statuses=workflow.LABELS)


@bp.get("/requests/<number>")
@login_required()
def detail(number: str):
    return _render_detail(reading.get_request(db.session, _user(), number))


def _render_detail(req, status: int = 200, info_errors: dict | None = None, withdraw_error: str | None = None,
                   rating_errors: dict | None = None):
    user = _user()
    rating_rounds = {t.id: ratings.next_round(db.session, t) for t in req.tickets
                     if t.status == workflow.COMPLETED} if user.role == "enterprise" else {}
    calendar = workdays.Calendar.from_session(db.session)
    public = [e for e in req.events if e.public]
    return render_template("requests/detail.html", req=req, user=user,
                           events=policy.visible_events(user, req), workflow=workflow,
                           standings={t.id: reading.standing_of(t, public) for t in req.tickets},
                           pauses={t.id: deadlines.pause_of(calendar, t) for t in req.tickets},
                           info_asks=reading.info_requests(req),
                           withdraw_form=WithdrawForm(), info_form=InfoForm(), rating_form=RatingForm(),
                           can_withdraw=request_actions.can_withdraw(user, req), info_errors=info_errors or {},
                           withdraw_error=withdraw_error, rating_rounds=rating_rounds,
                           rating_errors=rating_errors or {}, rating_labels=ratings.LABELS), status


@bp.post("/requests/<number>/tickets/<ticket>/rating")
@login_required(ENTERPRISE)
def rate(number: str, ticket: str):
    form = RatingForm()
    req = reading.get_request(db.session, _user(), number)
    if not form.validate_on_submit():
        return _render_detail(req, 400, rating_errors={ticket: _("页面已过期，请刷新后重试。")})
    try:
        ratings.rate(db.session, _user(), number, ticket, form.score.data or "", form.comment.data or "")
    except REFUSED as exc:
        db.session.expire_all()
        return _render_detail(reading.get_request(db.session, _user(), number), exc.status,
                              rating_errors={ticket: refusal(exc)})
    flash(_("感谢您的评价。"), "success")
    return redirect(url_for("requests.detail", number=number))


@bp.post("/requests/<number>/withdraw")
@login_required(ENTERPRISE)
def withdraw(number: str):
    form = WithdrawForm()
    req = reading.get_request(db.session, _user(), number)
    if not form.validate_on_submit():
        return _render_detail(req, 400, withdraw_error=_("页面已过期，请刷新后重试。"))
    try:
        request_actions.withdraw(db.session, _user(), number, form.reason.data or "")
    except Conflict as exc:
        return _render_detail(req, 409, withdraw_error=tr(exc.message))
    flash(_("申请已撤回。"), "success")
    return redirect(url_for("requests.detail", number=number))


@bp.post("/requests/<number>/tickets/<ticket>/info")
@login_required(ENTERPRISE)
def provide_info(number: str, ticket: str):
    form = InfoForm()
    req = reading.get_request(db.session, _user(), number)
    if not form.validate_on_submit():
        return _render_detail(req, 400, info_errors={ticket: _("页面已过期，请刷新后重试。")})
    files = [uploads.Incoming(f.filename or "", f.stream) for f in request.files.getlist("attachments")]
    try:
        request_actions.provide_info(db.session, _user(), number, ticket, form.message.data or "", files,
                            current_app.config["UPLOAD_DIR"])
    except REFUSED as exc:
        message = refusal(exc)
        db.session.expire_all()
        return _render_detail(reading.get_request(db.session, _user(), number), exc.status,
                              info_errors={ticket: message})
    flash(_("补正材料已提交，承办部门将继续办理。"), "success")
    return redirect(url_for("requests.detail", number=number))


@bp.get("/attachments/<int:attachment_id>")
@login_required()
def attachment(attachment_id: int):
    a = reading.get_attachment(db.session, _user(), attachment_id)
    try:
        path = uploads.path_of(current_app.config["UPLOAD_DIR"], a.stored_name)
    except ValueError:  # a stored name that points outside the upload folder
        abort(404)
    if not path.is_file():
        abort(404)
    inline = a.mime_type in ("application/pdf", "image/png", "image/jpeg")
    response = send_file(path, mimetype=a.mime_type, as_attachment=not inline, download_name=a.original_name,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/progress", methods=["GET", "POST"])
@limiter.limit(LOOKUP_LIMIT, methods=["POST"])
@public
def progress():
    form = ProgressForm()
    result = None
    status = 200
    if form.validate_on_submit():
        try:
            result = reading.lookup_progress(db.session, text(form.number), text(form.query_code))
        except ServiceError as exc:  # wrong number or query code: said on the form, 404
            form.form_errors.append(tr(exc.message))
            status = exc.status
    elif form.errors:
        status = 400 if "csrf_token" in form.errors else 422
    return render_template("requests/progress.html", form=form, result=result, workflow=workflow), status
