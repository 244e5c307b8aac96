"""Statistics pages: the supervisor dashboard, the bureau lead view, exports, the public
performance page and the enterprise quality file. Views only translate HTTP; the figures come
from services.stats (reports, performance, enterprise). How long figures are kept:
portal/dashboard/cache.py."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import STAFF, login_required, public
from portal.dashboard import bp, charts
from portal.dashboard.cache import dashboard_cache_seconds, min_compute_seconds, performance_cache
from portal.extensions import db
from services.core import roles
from services.core.clock import local_today, utcnow
from services.core.errors import ValidationFailed
from services.stats import enterprise as statistics_enterprise
from services.stats import export as statistics_export
from services.stats.filters import DEFAULT_MONTHS, MAX_SPAN_YEARS, bureau_choices, default_range
from services.stats.performance import parse_year, public_performance, public_years
from services.stats.reports import Report, dashboard_report
from services.stats.tables import report_tables

DASHBOARD_ROLES = roles.LEADS  # a lead sees their bureau's figures, county-wide staff every bureau's


def _user():
    return current_user._get_current_object()


def _raw_filters(own_bureau_only: bool) -> dict[str, str]:
    args = request.args
    raw = {"from": args.get("from", "").strip(), "to": args.get("to", "").strip(), "bureau": ""}
    if not own_bureau_only:
        raw["bureau"] = args.get("bureau", "").strip()
    return raw


def _charts(rep: Report) -> dict[str, charts.Chart]:
    return {
        "bureau": charts.hbar([(r.name, r.metrics.received) for r in rep.by_bureau]),
        "month": charts.columns([(f"{int(r.key[5:])}月", f"{r.key[:4]}年" if r.key.endswith("-01") or i == 0 else "",
                                  r.received) for i, r in enumerate(rep.by_month)]),
    }


def _report(own_bureau_only: bool, raw: dict[str, str] | None = None, refresh: bool = False):
    """(report, None) or (None, the dashboard page with the filter errors, status 400)."""
    user = _user()
    raw = raw if raw is not None else _raw_filters(own_bureau_only)
    try:
        return dashboard_report(db.session, user, raw["from"], raw["to"], raw["bureau"],
                                cache_seconds=dashboard_cache_seconds(current_app),
                                cache_min_compute=min_compute_seconds(current_app), refresh=refresh), None
    except ValidationFailed as exc:  # bad filters: the dashboard with the messages (Forbidden: 403 page)
        return None, _page(raw, own_bureau_only, errors=exc.fields, status=400)


def _page(raw: dict[str, str], own_bureau_only: bool, report=None, errors=None, status: int = 200):
    user = _user()
    extra = {}
    if report is not None:
        args = report.filter.as_args()
        if own_bureau_only:
            args.pop("bureau", None)
        seconds = dashboard_cache_seconds(current_app)
        extra = dict(tables=report_tables(report), charts=_charts(report), export_args=args,
                     cache_minutes=max(1, round(seconds / 60)) if seconds > 0 else 0)
    start, end = default_range(report.today if report is not None else local_today())
    defaults = {"from": start, "to": end, "months": DEFAULT_MONTHS, "before": DEFAULT_MONTHS - 1,
                "years": MAX_SPAN_YEARS}
    return render_template("dashboard/index.html", report=report, errors=errors or {}, raw=raw, user=user,
                           own_bureau_only=own_bureau_only, defaults=defaults,
                           bureaus=[] if own_bureau_only else bureau_choices(db.session), **extra), status


def _dashboard(own_bureau_only: bool):
    rep, error_page = _report(own_bureau_only)
    if error_page is not None:
        return error_page
    shown = {"bureau": "", **rep.filter.as_args()}  # the form shows the dates actually used
    return _page(shown, own_bureau_only, report=rep)


@bp.get("/dashboard")
@login_required(DASHBOARD_ROLES)
def index():
    """County-wide statistics for the joint office; a bureau lead is sent to their bureau's view."""
    if _user().role == "lead":
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("from", "to") and v}
        return redirect(url_for("dashboard.bureau", **args))
    return _dashboard(own_bureau_only=False)


@bp.get("/dashboard/bureau")
@login_required((roles.LEAD,))
def bureau():
    """The same figures for the lead's own bureau; ?bureau= is ignored."""
    return _dashboard(own_bureau_only=True)


@bp.post("/dashboard/refresh")
@login_required(DASHBOARD_ROLES)
def refresh():
    """Compute the figures of the filter again now (they are otherwise kept for a few minutes),
    then show them."""
    own_bureau_only = _user().role == "lead"
    form = request.form
    raw = {"from": form.get("from", "").strip(), "to": form.get("to", "").strip(),
           "bureau": "" if own_bureau_only else form.get("bureau", "").strip()}
    rep, error_page = _report(own_bureau_only, raw, refresh=True)
    if error_page is not None:
        return error_page
    args = rep.filter.as_args()
    if own_bureau_only:
        args.pop("bureau", None)
    return redirect(url_for("dashboard.bureau" if own_bureau_only else "dashboard.index", **args), 303)


def _export(ext: str):
    rep, error_page = _report(own_bureau_only=_user().role == "lead")
    if error_page is not None:
        return error_page
    if ext == "csv":
        body, mimetype = statistics_export.to_csv(rep), "text/csv; charset=utf-8"
    else:
        body = statistics_export.to_xlsx(rep)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = statistics_export.filename(rep, ext)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store"})


@bp.get("/dashboard/export.csv")
@login_required(DASHBOARD_ROLES)
def export_csv():
    return _export("csv")


@bp.get("/dashboard/export.xlsx")
@login_required(DASHBOARD_ROLES)
def export_xlsx():
    return _export("xlsx")


@bp.get("/performance")
@public
def performance():
    """政务公开: per bureau and per service figures, kept for ~10 minutes (see cache.py)."""
    today = local_today()
    raw = request.args.get("year", "").strip()
    try:
        year = parse_year(raw, today)
    except ValidationFailed as exc:
        return render_template("dashboard/performance.html", data=None, errors=exc.fields,
                               years=public_years(today)), 400
    cache = performance_cache(current_app)
    data = cache.get_or_compute(
        (year, today), lambda: public_performance(db.session, year, today=today, cache_seconds=cache.ttl,
                                                  cache_min_compute=min_compute_seconds(current_app)),
        age=lambda d: (utcnow() - d.computed_at).total_seconds())
    chart = charts.hbar([(b.name, b.on_time_rate) for b in data.bureaus], unit="%", maximum=100)
    return render_template("dashboard/performance.html", data=data, errors={}, years=data.years, chart=chart,
                           refresh_minutes=max(1, round(cache.ttl / 60)) if cache.ttl > 0 else 0)


@bp.get("/staff/enterprises/<uscc>")
@login_required(STAFF)
def enterprise_file(uscc: str):
    """质量档案 of one enterprise, limited to the tickets the staff member may see."""
    file = statistics_enterprise.enterprise_file(db.session, _user(), uscc)  # 404/403: portal/errors.py
    return render_template("dashboard/enterprise.html", file=file, user=_user())
