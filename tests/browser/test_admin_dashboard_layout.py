"""Dashboard, performance page and admin lists at desktop (1366×768) and phone (390×844) width:
the page body never scrolls sideways (wide tables scroll inside their own container, which says
so), chart labels never overlap and show full names. Screenshots go to
test-artifacts/journeys/<page>-<device>.png."""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
from playwright.sync_api import expect

from tests import databases
from tests.conftest import make_app

pytestmark = pytest.mark.browser

PASSWORD = "passw0rd-ok"
ADMIN = "layout-admin"
SUPERVISOR = "layout-sup"
ENTERPRISE_FIRST17 = "91430723MA4LAY0T3"
# (bureau, service): one online service per bureau, so the bureau chart has many rows.
SERVICES = (("amr", "JL-002"), ("sti", None), ("miit", None), ("agri", None), ("commerce", None),
            ("housing", None), ("civil", None), ("emergency", None))


def _uscc() -> str:
    from services.accounts.uscc import check_character

    return ENTERPRISE_FIRST17 + check_character(ENTERPRISE_FIRST17)


def _answers(service) -> dict:
    """Valid answers to a service's required request fields."""
    out: dict = {}
    for f in service.fields:
        if not f.required:
            continue
        if f.datatype == "number":
            out[f.code] = 3
        elif f.datatype == "datetime":
            out[f.code] = "2026-01-15"
        elif f.datatype == "singlevaluelist":
            out[f.code] = f.values[0]["key"]
        elif f.datatype == "multivaluelist":
            out[f.code] = [f.values[0]["key"]]
        else:
            out[f.code] = "电子台秤"
    return out


def _months_back(today: date, n: int) -> date:
    index = today.year * 12 + today.month - 1 - n
    return date(index // 12, index % 12 + 1, 10)


def populate(app) -> dict[str, str]:
    """A year of tickets across eight bureaus and the joint office (some completed, some
    overdue), an admin and a supervisor. Idempotent per app (returns the people)."""
    from sqlalchemy import select

    from portal.extensions import db
    from services.accounts import users as accounts
    from services.core.clock import BEIJING, local_today
    from services.models import Bureau, Service, User
    from services.requests import submission
    from services.tickets import actions as ticket_actions
    from services.tickets import workdays
    from services.tickets.actions import ActionInput

    uscc = _uscc()
    people = {"admin": ADMIN, "supervisor": SUPERVISOR, "enterprise": uscc}
    with app.app_context():
        s = db.session
        if s.scalar(select(User).where(User.username == ADMIN)) is not None:
            return people
        enterprise = accounts.register_enterprise(s, accounts.EnterpriseProfile(
            company="澧县布局测试机械有限公司", uscc=uscc, contact_name="宋宽", mobile="13907361122",
            email="songkuan@example.com", township="澧阳街道", industry="C", size="small"), PASSWORD)
        accounts.create_user(s, ADMIN, "admin", PASSWORD, email="layout-admin@example.com", display_name="管理员甲")
        accounts.create_user(s, SUPERVISOR, "supervisor", PASSWORD, email="layout-sup@example.com",
                             display_name="督办员乙")
        handlers = {}
        services = []
        for bureau, code in SERVICES:
            handlers[bureau] = accounts.create_user(s, f"layout-{bureau}", "handler", PASSWORD, bureau=bureau,
                                                    email=f"layout-{bureau}@example.com")
            if code is None:
                b = s.scalar(select(Bureau).where(Bureau.code == bureau))
                service = s.scalars(select(Service).where(Service.bureau_id == b.id, Service.online.is_(True),
                                                          Service.published.is_(True))
                                    .order_by(Service.code)).first()
            else:
                service = s.scalar(select(Service).where(Service.code == code))
            services.append((bureau, service.code))
        calendar = workdays.Calendar.from_session(s)
        today = local_today()
        for back in range(11, -1, -1):
            first = _months_back(today, back)
            for i, (bureau, code) in enumerate(services):
                if (back + i) % 3 == 2 and i > 1:
                    continue
                day = min(date(first.year, first.month, min(first.day + i, 28)), today)
                when = datetime(day.year, day.month, day.day, 10, tzinfo=BEIJING).astimezone(timezone.utc)
                service = s.scalar(select(Service).where(Service.code == code))
                req, _ = submission.submit(s, enterprise, submission.Submission(
                    services=[code], attributes={code: _answers(service)}, description="布局测试申请"),
                    app.config["UPLOAD_DIR"])
                req.created_at = when
                ticket = req.tickets[0]
                ticket.created_at = when
                ticket.accept_due = ticket_actions.accept_due_for(calendar, day)
                number = ticket.number
                s.commit()
                handler = handlers[bureau]
                if back == 0:
                    if i % 2 == 0:  # this month's: some accepted, some still waiting
                        ticket_actions.perform(s, handler, number, ActionInput("accept", "已受理"))
                    continue
                ticket_actions.perform(s, handler, number, ActionInput("accept", "已受理"),
                                       now=when.replace(hour=6))
                if bureau == "sti" and back % 4 == 1:
                    ticket_actions.perform(s, handler, number, ActionInput("return", "不属于本单位职责"),
                                           now=when.replace(hour=9))
                elif back % 5 != 3:
                    ticket_actions.perform(s, handler, number, ActionInput("complete", "已办结"),
                                           now=when.replace(day=min(when.day + 3, 28)))
        # Admin changes for the audit log: a rule with categories and services, a service's
        # category and publication.
        from services.catalog import guides as admin_guides
        from services.requests import routing_admin

        admin = s.scalar(select(User).where(User.username == ADMIN))
        row = routing_admin.save_rule(s, admin, routing_admin.RuleInput(
            name="农林牧渔企业的认证检测事项由县农业农村局办理", priority=10, bureau="agri",
            categories=["certification", "testing"], industries=["A"], services=["RZ-001"]))
        routing_admin.save_rule(s, admin, routing_admin.RuleInput(
            name="农林牧渔企业的认证检测事项由县农业农村局办理", priority=15, bureau="agri",
            categories=["certification"], industries=["A"], services=["RZ-001"]), rule_id=row.rule.id)
        admin_guides.set_published(s, admin, "BZ-010", False)
        admin_guides.set_published(s, admin, "BZ-010", True)
    return people


# --------------------------------------------------------------------------- a private live server
@pytest.fixture(scope="module")
def _server(tmp_path_factory, bundled_template):
    """(base URL, Flask app) of a live server on a private copy of the bundled catalog, with a
    year of tickets (they would change what other browser tests count)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    instance, database_uri, database_name = bundled_template.copy(
        tmp_path_factory.mktemp("admin-layout") / "instance")
    app = make_app(instance, database_uri)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server-admin-layout", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["portal.db"].engine.dispose()
        if database_name:
            databases.drop(database_name)
        from portal.extensions import limiter

        limiter.reset()


@pytest.fixture(scope="module")
def live_server(_server) -> str:
    return _server[0]


@pytest.fixture(scope="module")
def live_app(_server):
    return _server[1]


@pytest.fixture(scope="module")
def people(live_app) -> dict[str, str]:
    return populate(live_app)


# --------------------------------------------------------------------------- helpers
def log_in(page, username: str) -> None:
    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page.get_by_role("navigation", name="账号").get_by_role("button", name="退出")).to_be_visible()


def no_page_overflow(page) -> None:
    """The page body never scrolls sideways: only the table boxes do."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url}: the page is {widths[0]} px wide in a {widths[1]} px window"


def table_boxes(page) -> list[dict]:
    """Every table box: whether it overflows, whether its hint shows, and where it ends."""
    return page.evaluate("""() => [...document.querySelectorAll('.table-scroll, .table-wrap')].map(box => {
        const hint = box.querySelector('.scroll-hint');
        const r = box.getBoundingClientRect();
        return {id: (box.querySelector('table') || {}).id || '', overflows: box.scrollWidth > box.clientWidth + 1,
                overflowX: getComputedStyle(box).overflowX, right: r.right, width: window.innerWidth,
                hint: hint ? hint.offsetParent !== null && hint.getBoundingClientRect().height > 0 : null,
                shadow: getComputedStyle(box).backgroundImage.includes('gradient')};
    })""")


def check_tables(page) -> list[dict]:
    boxes = table_boxes(page)
    for box in boxes:
        assert box["overflowX"] in ("auto", "scroll"), box
        assert box["right"] <= box["width"] + 0.5, f"{page.url}: a table box runs off the page: {box}"
        assert box["shadow"], box  # the edge shadows that show there is more to the side
        assert box["hint"] is not None, f"{page.url}: table box without a scroll hint: {box}"
        assert box["hint"] == box["overflows"], f"{page.url}: the hint shows exactly when the table scrolls: {box}"
    return boxes


def label_boxes(page, svg_selector: str) -> list[list[dict]]:
    """The bounding boxes of every drawn label (text) of each chart, in page pixels."""
    return page.evaluate("""(sel) => [...document.querySelectorAll(sel)].map(svg => {
        const out = [];
        const box = svg.getBoundingClientRect();
        for (const t of svg.querySelectorAll('text')) {
            const r = t.getBoundingClientRect();
            out.push({text: t.textContent, cls: t.getAttribute('class'), left: r.left, right: r.right, top: r.top,
                      bottom: r.bottom, svgLeft: box.left, svgRight: box.right});
        }
        return out;
    })""", svg_selector)


def no_overlaps(charts_boxes: list[list[dict]]) -> None:
    for labels in charts_boxes:
        assert labels, "a chart without labels"
        for label in labels:
            assert label["left"] >= label["svgLeft"] - 0.5 and label["right"] <= label["svgRight"] + 0.5, label
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                apart = (a["right"] <= b["left"] + 0.5 or b["right"] <= a["left"] + 0.5
                         or a["bottom"] <= b["top"] + 0.5 or b["bottom"] <= a["top"] + 0.5)
                assert apart, f"labels overlap: {a['text']!r} and {b['text']!r}"


def shot(page, artifacts, name: str, device: str) -> None:
    folder = artifacts / "journeys"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{device}.png"), full_page=True)


# --------------------------------------------------------------------------- tests
def test_dashboard_fits_the_screen_and_its_charts_read(page, people, device, artifacts):
    log_in(page, people["supervisor"])
    page.goto("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("办件统计分析")
    start, end = page.locator("#from").input_value(), page.locator("#to").input_value()
    expect(page.locator("#filter-hint")).to_contain_text(f"即 {start} 至 {end}（今天）")
    expect(page.locator("#period")).to_contain_text(f"统计区间：{start} 至 {end}")
    no_page_overflow(page)
    boxes = check_tables(page)
    if device == "desktop":  # at 1366 px every dashboard table fits its box
        assert not [b["id"] for b in boxes if b["overflows"]]
    else:
        assert any(b["overflows"] and b["hint"] for b in boxes)
    # the bureau chart: full names, nothing cut or overlapping
    bureau_chart = page.locator("#chart-bureau-title").locator("xpath=..")
    names = [t.strip() for t in bureau_chart.locator("text.chart-label").all_text_contents()]
    assert "质量强县工作联席会议办公室" in names and not any("…" in n for n in names), names
    no_overlaps(label_boxes(page, "svg.chart-svg"))
    month_labels = page.locator("svg.chart-columns text.chart-label").all_text_contents()
    assert 2 <= len(month_labels) < 12, month_labels
    shot(page, artifacts, "admin-dashboard", device)


def test_performance_page_fits_and_shows_full_names(page, people, device, artifacts):
    page.goto("/performance")
    expect(page.get_by_role("heading", level=1)).to_have_text("办件绩效公开")
    no_page_overflow(page)
    check_tables(page)
    labels = page.locator("svg.chart-svg text.chart-label").all_text_contents()
    assert "质量强县工作联席会议办公室" in [t.strip() for t in labels]
    no_overlaps(label_boxes(page, "svg.chart-svg"))
    shot(page, artifacts, "admin-performance", device)


@pytest.mark.parametrize("path,name", [("/admin/services", "services"), ("/admin/users", "users"),
                                       ("/admin/bureaus", "bureaus"), ("/admin/categories", "categories")])
def test_admin_lists_fit_the_screen(page, people, device, artifacts, path, name):
    log_in(page, people["admin"])
    page.goto(path)
    expect(page.locator("table").first).to_be_visible()
    no_page_overflow(page)
    check_tables(page)
    shot(page, artifacts, f"admin-{name}", device)


def test_rules_and_audit_read_in_chinese(page, people, device, artifacts):
    log_in(page, people["admin"])
    page.goto("/admin/rules")
    card = page.locator("li.rule-card").filter(has_text="农林牧渔企业的认证检测事项由县农业农村局办理")
    expect(card).to_contain_text("认证认可")
    expect(card).to_contain_text("绿色食品认证申报 RZ-001")
    assert "certification" not in card.inner_text()
    no_page_overflow(page)
    shot(page, artifacts, "admin-rules", device)

    page.goto("/admin/audit")
    changes = page.locator("ul.audit-changes").first
    expect(changes).to_be_visible()
    text = page.locator("ol.audit-log").inner_text()
    assert "条件：服务类别" in text and "认证认可、检验检测" in text and "→" in text
    for code in ("certification", "testing", "{", "conditions", "is_workday"):
        assert code not in text, code
    no_page_overflow(page)
    shot(page, artifacts, "admin-audit", device)


def test_bureau_directory_lists_serving_bureaus_first(page, people, device, artifacts):
    page.goto("/bureaus")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="统筹协调")).to_be_visible()
    serving = main.locator("section[aria-labelledby=bureaus-serving] .bureau-card")
    without = main.locator("section[aria-labelledby=bureaus-without] .bureau-card")
    expect(main.get_by_text("以下单位暂无在线服务事项，可电话咨询。")).to_be_visible()
    assert serving.count() == 15 and without.count() == 6
    assert "0 项服务" not in main.inner_text()
    for i in range(without.count()):
        expect(without.nth(i).locator("a[href^='tel:']")).to_be_visible()  # contacts kept
    # the joint office leads, then bureaus with services; the ones without come last
    headings = [h.strip() for h in main.locator(".bureau-card h3").all_inner_texts()]
    assert headings[0] == "质量强县工作联席会议办公室"
    assert "澧县卫生健康局" in headings[-6:] and "澧县市场监督管理局" in headings[1:16]
    no_page_overflow(page)
    shot(page, artifacts, "public-bureaus", device)


@pytest.mark.parametrize("path", ["/dashboard", "/admin/audit", "/admin/rules", "/admin/users"])
def test_changed_pages_have_no_serious_axe_violations(page, people, axe, path):
    log_in(page, people["admin"])
    page.goto(path)
    results = axe.run(page)
    blocking = [f"{v['id']}: {v['help']} -> {[n['target'] for n in v['nodes'][:3]]}"
                for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not blocking, "\n".join(blocking)
