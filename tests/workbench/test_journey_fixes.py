"""Journeys that stumbled: a lead's transfer, the history's bureaus, each service's own deadline,
the 补正 round as the enterprise reads it, the public progress lookup and 协办意见 on offer."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.core.clock import frozen
from services.models import RequestItem, Ticket
from services.requests import actions as request_actions
from services.tickets import actions as tickets
from services.tickets import workdays
from services.tickets.actions import ActionInput
from tests.helpers import login, soup
from tests.plugins.people import submit

ASKED = "请补充绿色食品生产操作规程和产地环境检测报告"


def act(app, username, number, action, message="", to_bureau=None):
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        tickets.perform(db.session, user, number, ActionInput(action, message, to_bureau))


def ticket_row(app, number) -> Ticket:
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == number))
        db.session.expunge(t)
        return t


def dues(app, number) -> dict[str, date | None]:
    with app.app_context():
        rows = db.session.execute(select(RequestItem).join(Ticket, RequestItem.ticket_id == Ticket.id)
                                  .where(Ticket.number == number)).scalars()
        return {i.service.code: i.due_date for i in rows}


def form_data(form) -> dict[str, str]:
    data = {i["name"]: i.get("value", "") for i in form.select("input") if i.get("name")}
    for select_ in form.select("select"):
        data[select_["name"]] = ""
    return data


# --------------------------------------------------------------------------- 转办 by a lead
def test_after_a_transfer_the_lead_lands_on_the_queue_with_the_message(app, client, people, lead, amr_ticket):
    login(client, lead)
    page = soup(client.get(f"/staff/tickets/{amr_ticket}"))
    form = page.select_one(f"form[action='/staff/tickets/{amr_ticket}/actions/transfer']")
    data = form_data(form) | {"transfer-message": "属于农产品检测", "transfer-to_bureau": "agri"}
    response = client.post(form["action"], data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/queue")
    queue = client.get(response.headers["Location"])
    assert queue.status_code == 200
    text = soup(queue).get_text()
    assert "已完成：转办" in text and amr_ticket in text and "澧县农业农村局" in text


def test_history_shows_who_acted_and_the_bureau_at_that_moment(app, client, people, lead, amr_ticket):
    act(app, lead, amr_ticket, "transfer", "属于农产品检测", "agri")
    act(app, people["agri"], amr_ticket, "accept")
    act(app, people["agri"], amr_ticket, "request_info", ASKED)
    with app.app_context():
        user = accounts.get_by_username(db.session, people["a"])
        request_actions.provide_info(db.session, user, amr_ticket.rsplit("-", 1)[0], amr_ticket, "已补充", [], "")
    login(client, people["a"])
    page = soup(client.get(f"/requests/{amr_ticket.rsplit('-', 1)[0]}"))
    lines = [li.select_one("p.muted").get_text(" ", strip=True) for li in page.select("ol.timeline li")]
    # The submission was the enterprise's, to 市场监管局; the transfer was 市场监管局's; the 补正
    # request 农业农村局's; the answer the enterprise's (no bureau on it).
    submitted, transferred, accepted, asked, answered = lines
    assert "澧县兰江食品有限公司" in submitted and "农业农村局" not in submitted
    assert "市场监管局" in transferred and "amr-lead" in transferred
    assert "农业农村局" in accepted and "农业农村局" in asked
    assert "澧县兰江食品有限公司" in answered and "局" not in answered.replace("澧县兰江食品有限公司", "")
    assert "提交至县市场监管局" in page.select("ol.timeline li")[0].get_text()


# --------------------------------------------------------------------------- each service's deadline
def test_each_service_keeps_its_own_deadline_and_the_earliest_counts_as_overdue(app, client, people):
    # 农产品质量安全检测 promises 10 working days, 绿色食品认证申报 20: one 农业农村局 ticket.
    with frozen(date(2026, 10, 12)):
        number = submit(app, people["a"], ["JC-002", "RZ-001"])
        act(app, people["agri"], number, "accept")
    calendar = workdays.Calendar()
    due = dues(app, number)
    assert due == {"JC-002": calendar.add_workdays(date(2026, 10, 12), 10),
                   "RZ-001": calendar.add_workdays(date(2026, 10, 12), 20)}
    assert ticket_row(app, number).due_date == due["JC-002"]

    login(client, people["agri"])
    page = soup(client.get(f"/staff/tickets/{number}"))
    headings = {h.get_text(" ", strip=True) for h in page.select("section h2[id^=svc-]")}
    assert any("农产品质量安全检测" in h and due["JC-002"].isoformat() in h for h in headings)
    assert any("绿色食品认证申报" in h and due["RZ-001"].isoformat() in h for h in headings)
    accepted = page.select("ol.timeline li")[-1].get_text()
    assert f"农产品质量安全检测 {due['JC-002'].isoformat()}" in accepted
    assert f"绿色食品认证申报 {due['RZ-001'].isoformat()}" in accepted

    # The day after the 10-day service's date: overdue in the queue and supervised by `sla check`,
    # although the 20-day one still has time.
    late = calendar.add_workdays(due["JC-002"], 1)
    with app.app_context():
        row = db.session.scalar(select(Ticket).where(Ticket.number == number))
        assert tickets.due_state(calendar, row, late) == "overdue"
        states = {i.service.code: tickets.item_due_state(calendar, row, i, late) for i in row.items}
        assert states == {"JC-002": "overdue", "RZ-001": "on_time"}
        assert number in tickets.sla_check(db.session, calendar, today=late).supervised

    client = app.test_client()
    login(client, people["a"])
    req = soup(client.get(f"/requests/{number.rsplit('-', 1)[0]}"))
    listed = req.select_one(".service-dues").get_text(" ", strip=True)
    assert due["JC-002"].isoformat() in listed and due["RZ-001"].isoformat() in listed


def test_a_transfer_clears_every_services_deadline(app, people, lead, amr_ticket):
    act(app, people["amr"], amr_ticket, "accept")
    assert all(dues(app, amr_ticket).values())
    act(app, lead, amr_ticket, "transfer", "属于农产品检测", "agri")
    assert dues(app, amr_ticket) == {"JL-002": None} and ticket_row(app, amr_ticket).due_date is None


# --------------------------------------------------------------------------- 补正 as the enterprise reads it
def test_the_info_form_repeats_the_request_with_its_deadline_and_the_stopped_clock(app, client, people,
                                                                                  agri_ticket):
    with frozen(date(2026, 10, 12)):
        act(app, people["agri"], agri_ticket, "accept")
    with frozen(date(2026, 10, 19)):
        act(app, people["agri"], agri_ticket, "request_info", ASKED)
    calendar = workdays.Calendar()
    answer_by = calendar.add_workdays(date(2026, 10, 19), 15)
    assert ticket_row(app, agri_ticket).info_due == answer_by
    number = agri_ticket.rsplit("-", 1)[0]
    login(client, people["a"])
    with frozen(date(2026, 10, 21)):
        page = soup(client.get(f"/requests/{number}"))
    form = page.select_one("form.info-form")
    assert ASKED in form.select_one(".info-ask").get_text()
    pause = page.select_one(".pause-notice").get_text(" ", strip=True)
    assert "计时已暂停" in pause and "2026-10-19" in pause and answer_by.isoformat() in pause
    # Answered on the 21st: 2 working days stood still, so the 20 days end 2 working days later.
    restart = calendar.add_workdays(date(2026, 10, 12), 20 + 2)
    assert restart.isoformat() in pause
    assert "补正期限" in page.select_one(".next-step").get_text()
    # The old 办理期限 is not shown as if the clock were running.
    dues_text = page.select_one(".service-dues h3").get_text()
    assert "计时已暂停" in dues_text and "办理期限" not in dues_text

    with frozen(date(2026, 10, 21)):
        with app.app_context():
            user = accounts.get_by_username(db.session, people["a"])
            request_actions.provide_info(db.session, user, number, agri_ticket, "已补充", [], "")
    row = ticket_row(app, agri_ticket)
    assert row.info_due is None and row.due_date == restart

    client = app.test_client()
    login(client, people["agri"])
    staff_page = soup(client.get(f"/staff/tickets/{agri_ticket}"))
    assert "计时已暂停" not in staff_page.select_one(".contact-list").get_text()


def test_the_staff_page_and_queue_say_the_clock_is_stopped(app, client, people, agri_ticket):
    act(app, people["agri"], agri_ticket, "accept")
    act(app, people["agri"], agri_ticket, "request_info", ASKED)
    login(client, people["agri"])
    page = soup(client.get(f"/staff/tickets/{agri_ticket}"))
    assert "计时已暂停" in page.select_one(".contact-list").get_text()
    queue = soup(client.get("/staff/queue?status=need_info")).select_one(".request-list").get_text()
    assert "计时已暂停" in queue and "办理期限" not in queue


# --------------------------------------------------------------------------- public progress
def test_public_progress_says_what_stands_and_what_to_do_but_nothing_personal(app, client, people, agri_ticket):
    with frozen(date(2026, 10, 12)):
        act(app, people["agri"], agri_ticket, "accept")
    with frozen(date(2026, 10, 19)):
        act(app, people["agri"], agri_ticket, "request_info", ASKED)
    number = agri_ticket.rsplit("-", 1)[0]
    with app.app_context():
        from services.models import Request
        code = db.session.scalar(select(Request.query_code).where(Request.number == number))
    page = soup(client.get("/progress"))
    data = {"csrf_token": page.select_one("input[name=csrf_token]")["value"], "number": number,
            "query_code": code}
    result = soup(client.post("/progress", data=data)).select_one(".progress-result")
    text = result.get_text(" ", strip=True)
    answer_by = workdays.Calendar().add_workdays(date(2026, 10, 19), 15).isoformat()
    assert "绿色食品认证申报" in text and "澧县农业农村局" in text
    assert "提交于" in text and "2026-10-19" in text and "计时已暂停" in text
    assert "补正" in text and answer_by in text and "请登录平台" in text
    for private in ("澧县兰江食品有限公司", ASKED, "13", people["a"]):
        assert private not in text


# --------------------------------------------------------------------------- 协办意见 only when asked
def test_co_reply_is_offered_only_to_a_bureau_asked_to_co_handle(app, client, people, lead, amr_ticket):
    act(app, people["amr"], amr_ticket, "accept")
    login(client, people["sup"])
    page = soup(client.get(f"/staff/tickets/{amr_ticket}"))
    assert page.select_one("#act-co_reply") is None and page.select_one("#act-supervise") is not None
    response = client.post(f"/staff/tickets/{amr_ticket}/actions/co_reply",
                           data=form_data(page.select_one("#act-supervise form")) | {"co_reply-message": "x"})
    assert response.status_code in (400, 403)
    act(app, lead, amr_ticket, "co_handle", "请提供检定记录", "agri")
    client = app.test_client()
    login(client, people["agri"])
    page = soup(client.get(f"/staff/tickets/{amr_ticket}"))
    assert page.select_one("form[action$='/actions/co_reply']") is not None


def test_statistics_count_a_ticket_late_once_one_service_is_past_its_own_date(app, people):
    from services.stats import filters, reports

    with frozen(date(2026, 10, 12)):
        number = submit(app, people["a"], ["JC-002", "RZ-001"])
        act(app, people["agri"], number, "accept")
    calendar = workdays.Calendar()
    due = dues(app, number)
    # Closed the working day after the 10-day service's date, well before the 20-day one's.
    with frozen(calendar.add_workdays(due["JC-002"], 1)):
        act(app, people["agri"], number, "complete", "检测报告和认证材料已出具")
    with app.app_context():
        flt = filters.parse_filter(db.session, "2026-10-01", "2026-12-31")
        totals = reports.report(db.session, flt, today=date(2026, 12, 31), calendar=calendar).totals
    assert totals.completed == 1 and totals.due_counted == 1 and totals.on_time == 0
