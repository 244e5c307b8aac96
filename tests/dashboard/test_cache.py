"""Finished results kept in the database for a few minutes (stats_cache), shared by every worker:
the figures are the computed ones, the pages say when they were computed, “重新计算” computes
them again, and a cache that cannot be used never breaks a page."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from services.core import clock
from services.core.clock import BEIJING
from services.models import StatsCache, Ticket
from services.stats import cache as stats_cache
from services.stats import filters, performance, reports
from tests.conftest import make_app
from tests.dashboard.conftest import RANGE, TODAY
from tests.dashboard.test_pages import kpis
from tests.helpers import csrf, login, soup

pytestmark = pytest.mark.usefixtures("frozen_today")


@pytest.fixture(autouse=True)
def keep_every_result(request):
    """The fixture's figures take milliseconds; keep them anyway (by default only results that
    took at least 0.5 s to compute are kept)."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["STATS_CACHE_MIN_COMPUTE_SECONDS"] = 0


def complete_t6(app, world) -> None:
    """Change a figure behind the cache's back: the rejected t6 (amr) becomes completed."""
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == world.t["t6"]))
        t.status = "completed"
        db.session.commit()


def stored(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(StatsCache.key).order_by(StatsCache.key)))


def test_dashboard_keeps_the_report_and_says_when_it_was_computed(app, client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string=RANGE))
    assert kpis(page)["已办结"] == "4"
    freshness = page.select_one("#freshness")
    assert "数据更新于" in freshness.get_text() and "5 分钟" in freshness.get_text()
    when = datetime.fromisoformat(freshness.time["datetime"])
    assert when == clock.utcnow()                        # the clock stands still in these tests
    shown = when.astimezone(BEIJING)
    assert freshness.time.get_text() == shown.strftime("%H:%M" if shown.date() == TODAY else "%Y-%m-%d %H:%M")
    assert [k.split(":")[2:5] for k in stored(app)] == [["2026-09-01", "2026-10-31", "-"]]

    complete_t6(app, world)
    again = soup(client.get("/dashboard", query_string=RANGE))
    assert kpis(again)["已办结"] == "4" and again.select_one("#freshness time") == freshness.time
    # another filter is another report, computed now
    assert kpis(soup(client.get("/dashboard", query_string={**RANGE, "bureau": "amr"})))["已办结"] == "4"
    assert len(stored(app)) == 2


def test_exports_use_the_report_of_the_page_and_say_when(app, client, world):
    login(client, world.people["sup"])
    client.get("/dashboard", query_string=RANGE)
    complete_t6(app, world)
    body = client.get("/dashboard/export.csv", query_string=RANGE).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert ["已办结", "4", "件"] in rows
    updated = dict(r for r in rows if len(r) == 2)["数据更新时间"]
    assert updated.endswith("（北京时间）") and updated[:10] == TODAY.isoformat()


def test_another_worker_on_the_same_database_uses_the_stored_report(app, client, world, tmp_path):
    login(client, world.people["sup"])
    client.get("/dashboard", query_string=RANGE)
    complete_t6(app, world)
    other = make_app(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        other_client = other.test_client()
        login(other_client, world.people["sup"])
        assert kpis(soup(other_client.get("/dashboard", query_string=RANGE)))["已办结"] == "4"
    finally:
        other.extensions["portal.db"].engine.dispose()


def test_recompute_button_shows_the_figures_of_now(app, client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string={**RANGE, "bureau": "amr"}))
    assert kpis(page)["已办结"] == "3"
    complete_t6(app, world)
    form = page.select_one("#refresh-form")
    data = {i["name"]: i["value"] for i in form.select("input")}
    assert data == {"csrf_token": data["csrf_token"], **RANGE, "bureau": "amr"}
    response = client.post(form["action"], data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard?from=2026-09-01&to=2026-10-31&bureau=amr"
    assert kpis(soup(client.get(response.headers["Location"])))["已办结"] == "4"
    # without the form's token nothing is computed
    assert client.post(form["action"], data={**RANGE}).status_code == 400


def test_recompute_for_a_lead_stays_in_the_own_bureau(app, client, world):
    login(client, world.people["amr_lead"])
    page = soup(client.get("/dashboard/bureau", query_string=RANGE))
    form = page.select_one("#refresh-form")
    data = {i["name"]: i["value"] for i in form.select("input")}
    assert "bureau" not in data
    response = client.post(form["action"], data={**data, "bureau": "agri"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/bureau?from=2026-09-01&to=2026-10-31"
    assert [k.split(":")[4] for k in stored(app)] == ["amr"]


def test_recompute_with_a_bad_filter_shows_the_errors(client, world):
    login(client, world.people["sup"])
    token = soup(client.get("/dashboard", query_string=RANGE)).select_one("#refresh-form input")["value"]
    response = client.post("/dashboard/refresh", data={"csrf_token": token, "from": "2026-10-31", "to": "2026-09-01"})
    assert response.status_code == 400
    assert "开始日期不能晚于结束日期" in soup(response).select_one(".form-error-summary").get_text()


@pytest.mark.parametrize("who,status", [("a", 403), ("amr", 403)])
def test_only_dashboard_users_may_recompute(client, world, who, status):
    login(client, world.people[who])
    token = soup(client.get("/performance")).select_one('input[name="csrf_token"]')
    data = {**RANGE, "csrf_token": token["value"] if token else ""}
    assert client.post("/dashboard/refresh", data=data).status_code == status


def test_anonymous_recompute_goes_to_the_login_page(client):
    response = client.post("/dashboard/refresh", data={**RANGE, "csrf_token": csrf(client)})
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_zero_seconds_turns_the_cache_off(app, client, world):
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string=RANGE))
    freshness = page.select_one("#freshness").get_text()
    assert "数据更新于" in freshness and "分钟" not in freshness
    complete_t6(app, world)
    assert kpis(soup(client.get("/dashboard", query_string=RANGE)))["已办结"] == "5"
    assert stored(app) == []


def test_figures_that_are_quick_to_compute_are_always_fresh(app, client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string=RANGE))       # kept: computed with no minimum
    app.config["STATS_CACHE_MIN_COMPUTE_SECONDS"] = 60
    complete_t6(app, world)
    assert kpis(soup(client.get("/dashboard", query_string=RANGE)))["已办结"] == "4"   # still the kept one
    form = page.select_one("#refresh-form")
    response = client.post(form["action"], data={i["name"]: i["value"] for i in form.select("input")})
    assert stored(app) == []          # quick this time: the kept report is dropped, not replaced
    assert kpis(soup(client.get(response.headers["Location"])))["已办结"] == "5"
    other = {**RANGE, "bureau": "amr"}
    assert kpis(soup(client.get("/dashboard", query_string=other)))["已办结"] == "4"
    assert stored(app) == []


def test_a_missing_cache_table_never_breaks_the_page(app, client, world):
    with app.app_context():
        db.session.execute(text("DROP TABLE stats_cache"))
        db.session.commit()
    login(client, world.people["sup"])
    response = client.get("/dashboard", query_string=RANGE)
    assert response.status_code == 200 and kpis(soup(response))["已办结"] == "4"
    assert client.get("/performance").status_code == 200


# --------------------------------------------------------------------------- services.stats.cache.cached
class Figures:
    """A value to keep, computed at ``now`` (moved by hand), counting its computations."""

    def __init__(self):
        self.now = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)
        self.computed = 0

    def compute(self):
        self.computed += 1
        return performance.PublicPerformance(2026, date(2026, 1, 1), date(2026, 11, 29), row(self.computed), (), (),
                                             (2026,), computed_at=self.now)


def row(n: int) -> performance.PerformanceRow:
    return performance.PerformanceRow("全县合计", "", n, 0, 66.7, 8.3, 3.67, 3)


def test_cached_value_lives_for_its_seconds_and_refresh_replaces_it(app):
    figures = Figures()
    encode, decode = performance._performance_payload, performance._performance_from

    def get(**kw):
        with app.app_context():
            return stats_cache.cached(db.session, "performance:test", 300, figures.compute, encode, decode,
                                      now=figures.now, min_compute=0, **kw)

    first = get()
    assert first.totals.received == 1 and figures.computed == 1
    figures.now += timedelta(seconds=299)
    assert get() == first and figures.computed == 1
    assert get(refresh=True).totals.received == 2
    figures.now += timedelta(seconds=299)
    assert get().totals.received == 2          # the refreshed value, 299 s old
    figures.now += timedelta(seconds=1)
    assert get().totals.received == 3 and figures.computed == 3
    with app.app_context():
        assert stats_cache.clear_cache(db.session, "performance:") == 1
        assert stats_cache.clear_cache(db.session) == 0


def test_old_entries_are_deleted_when_a_new_one_is_stored(app):
    figures = Figures()
    with app.app_context():
        for key in ("a", "b"):
            stats_cache.cached(db.session, key, 60, figures.compute, performance._performance_payload,
                               performance._performance_from, now=figures.now, min_compute=0)
            figures.now += stats_cache.CACHE_KEEP + timedelta(seconds=1)
    assert stored(app) == ["b"]


def test_a_stored_report_reads_back_identical(app, world):
    with app.app_context():
        flt = filters.parse_filter(db.session, RANGE["from"], RANGE["to"], today=TODAY)
        rep = reports.report(db.session, flt, today=TODAY)
        data = reports._report_payload(rep)
        back = reports._report_from({**data, "computed_at": rep.computed_at}, flt, TODAY)
    assert asdict(back) == asdict(rep) and rep.overdue and rep.by_service


def test_dashboard_report_scope_is_checked_before_the_cache(app, world):
    """A stored report of one bureau is never handed to a lead of another bureau."""
    from services.accounts import users as accounts
    from services.core.errors import Forbidden

    with app.app_context():
        sup = accounts.get_by_username(db.session, world.people["sup"])
        lead = accounts.get_by_username(db.session, world.people["agri_lead"])
        handler = accounts.get_by_username(db.session, world.people["amr"])
        amr = reports.dashboard_report(db.session, sup, RANGE["from"], RANGE["to"], "amr", today=TODAY,
                                          cache_seconds=300, cache_min_compute=0)
        own = reports.dashboard_report(db.session, lead, RANGE["from"], RANGE["to"], "amr", today=TODAY,
                                          cache_seconds=300, cache_min_compute=0)
        assert amr.filter.bureau_code == "amr" and own.filter.bureau_code == "agri"
        assert {r.code for r in own.by_bureau} == {"agri"}
        with pytest.raises(Forbidden):
            reports.dashboard_report(db.session, handler, RANGE["from"], RANGE["to"], "amr", today=TODAY,
                                        cache_seconds=300)


def test_a_new_day_is_a_new_report(app, world):
    from services.accounts import users as accounts

    with app.app_context():
        sup = accounts.get_by_username(db.session, world.people["sup"])
        early = reports.dashboard_report(db.session, sup, RANGE["from"], RANGE["to"], today=date(2026, 10, 16),
                                            cache_seconds=300, cache_min_compute=0)
        later = reports.dashboard_report(db.session, sup, RANGE["from"], RANGE["to"], today=TODAY,
                                            cache_seconds=300, cache_min_compute=0)
    assert early.totals.overdue == 0 and later.totals.overdue == 2


# --------------------------------------------------------------------------- the public page
def rows(page, table_id: str) -> dict[str, list[str]]:
    return {tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in page.select(f"#{table_id} tbody tr") if tr.th}


def test_public_page_says_when_and_shares_its_figures_between_workers(app, client, world, tmp_path):
    page = soup(client.get("/performance"))
    status = page.select_one(".result-count").get_text()
    assert "数据更新于" in status and "每 10 分钟更新一次" in status
    assert rows(page, "table-bureaus")["县市场监管局"][1] == "3"
    complete_t6(app, world)
    other = make_app(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"])
    try:  # another worker: its own memory is empty, the stored figures are used
        assert rows(soup(other.test_client().get("/performance")), "table-bureaus")["县市场监管局"][1] == "3"
    finally:
        other.extensions["portal.db"].engine.dispose()


def test_memory_entry_lives_only_as_long_as_the_stored_figures():
    from portal.dashboard.cache import TTLCache

    now = [0.0]
    cache = TTLCache(600, clock=lambda: now[0])
    assert cache.get_or_compute("k", lambda: "stored 500 s ago", age=lambda v: 500) == "stored 500 s ago"
    now[0] = 99
    assert cache.get_or_compute("k", lambda: "new") == "stored 500 s ago"
    now[0] = 100
    assert cache.get_or_compute("k", lambda: "new") == "new"


# --------------------------------------------------------------------------- flask stats refresh
def test_refresh_command_computes_the_default_views(app, client, world, runner):
    result = runner.invoke(args=["stats", "refresh", "--bureaus"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        codes = [code for code, _ in filters.bureau_choices(db.session)]
    keys = stored(app)
    reports = sorted(k.split(":")[4] for k in keys if k.startswith("report:"))
    assert reports == sorted(["-", *codes])
    assert [k.split(":")[2:4] for k in keys if k.startswith("performance:")] == [["2026", "2026-11-29"]]
    assert {tuple(k.split(":")[2:4]) for k in keys if k.startswith("report:")} == {("2025-12-01", "2026-11-29")}
    assert "全部单位" in result.output and "政务公开 2026 年" in result.output and "秒" in result.output

    complete_t6(app, world)          # the pages now show the figures the command computed
    login(client, world.people["sup"])
    assert kpis(soup(client.get("/dashboard")))["已办结"] == "4"
    assert kpis(soup(client.get("/dashboard", query_string={"bureau": "amr"})))["已办结"] == "3"
