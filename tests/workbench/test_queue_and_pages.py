"""The staff queue and ticket pages, and the tickets API: filters, scope, keyset pages, actions."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.accounts import users as accounts
from services.models import Ticket
from services.tickets import queue as queuesvc
from tests.helpers import csrf_from, login, soup, token_for
from tests.plugins.people import submit


def auth(app, username):
    return {"Authorization": f"Bearer {token_for(app, username)}"}


def test_queue_shows_only_my_bureau_unless_supervisor(app, client, people, amr_ticket, agri_ticket):
    login(client, people["amr"])
    numbers = [a.get_text() for a in soup(client.get("/staff/queue")).select(".ticket-row h2 a")]
    assert numbers == [amr_ticket]
    data = client.get("/api/v1/tickets", headers=auth(app, people["sup"])).get_json()
    assert {t["number"] for t in data["items"]} == {amr_ticket, agri_ticket}


def test_enterprises_cannot_open_the_workbench(app, client, people, amr_ticket):
    login(client, people["a"])
    assert client.get("/staff/queue").status_code == 403
    assert client.get(f"/staff/tickets/{amr_ticket}").status_code == 403
    assert client.get("/api/v1/tickets", headers=auth(app, people["a"])).status_code == 403


def test_other_bureau_ticket_page_is_404(client, people, amr_ticket):
    login(client, people["agri"])
    assert client.get(f"/staff/tickets/{amr_ticket}").status_code == 404


def test_keyset_pages_cover_everything_once(app, people):
    numbers = [submit(app, people["a"], ["JL-002"], {"JL-002": {"instrument": f"秤{i}"}}) for i in range(7)]
    with app.app_context():
        user = accounts.get_by_username(db.session, people["amr"])
        seen, cursor = [], None
        while True:
            page = queuesvc.queue(db.session, user, queuesvc.QueueFilter(), after=cursor, limit=3)
            seen += [t.number for t in page.tickets]
            cursor = page.next_cursor
            if not cursor:
                break
    assert sorted(seen) == sorted(numbers) and len(seen) == len(set(seen))


def test_filters_mine_unassigned_overdue_and_dates(app, client, people, amr_ticket):
    other = submit(app, people["b"], ["JL-002"], {"JL-002": {"instrument": "台秤"}})
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == other))
        t.status, t.due_date = "accepted", date(2026, 1, 5)
        t.assignee_id = accounts.get_by_username(db.session, people["amr"]).id
        db.session.commit()
    login(client, people["amr"])

    def listed(qs):
        return [a.get_text() for a in soup(client.get("/staff/queue?" + qs)).select(".ticket-row h2 a")]

    assert listed("who=mine") == [other]
    assert listed("who=unassigned") == [amr_ticket]
    assert listed("due=overdue") == [other]
    assert "已超期" in soup(client.get("/staff/queue?due=overdue")).select_one(".ticket-row").get_text()
    assert listed("from=2000-01-01&to=2000-01-02") == []
    response = client.get("/staff/queue?from=2026-12-31&to=2026-01-01")
    assert response.status_code == 400 and "开始日期不能晚于结束日期" in soup(response).get_text()
    assert client.get("/staff/queue?from=yesterday").status_code == 400
    assert client.get("/staff/queue?after=garbage").status_code == 400


def test_claim_then_accept_through_the_page(app, client, people, amr_ticket):
    login(client, people["amr"])
    page = soup(client.get(f"/staff/tickets/{amr_ticket}"))
    claim = page.select_one(f"form[action='/staff/tickets/{amr_ticket}/claim']")
    data = {i["name"]: i.get("value", "") for i in claim.select("input")}
    assert client.post(claim["action"], data=data).status_code == 302
    page = soup(client.get(f"/staff/tickets/{amr_ticket}"))
    form = page.select_one(f"form[action='/staff/tickets/{amr_ticket}/actions/accept']")
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    response = client.post(form["action"], data=data)
    assert response.status_code == 302
    page = soup(client.get(f"/staff/tickets/{amr_ticket}"))
    assert "已受理" in page.h1.get_text() and "办理期限" in page.select_one(".contact-list").get_text()
    # The same (now stale) accept form again: refused with a clear message, status 409.
    response = client.post(form["action"], data=data)
    assert response.status_code == 409
    assert "已被他人更新" in soup(response).select_one("#action-error").get_text() or \
        "不能执行" in soup(response).select_one("#action-error").get_text()


def test_reject_without_reason_is_422_on_the_page(app, client, people, amr_ticket):
    login(client, people["amr"])
    page = soup(client.get(f"/staff/tickets/{amr_ticket}"))
    form = page.select_one(f"form[action='/staff/tickets/{amr_ticket}/actions/reject']")
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    response = client.post(form["action"], data=data)
    assert response.status_code == 422 and "理由" in soup(response).select_one("#action-error").get_text()
    with app.app_context():
        assert db.session.scalar(select(Ticket.status).where(Ticket.number == amr_ticket)) == "submitted"


def test_action_without_csrf_is_refused(client, people, amr_ticket):
    login(client, people["amr"])
    response = client.post(f"/staff/tickets/{amr_ticket}/actions/accept", data={"accept-action": "accept"})
    assert response.status_code == 400


# ------------------------------------------------------------------ API
@pytest.mark.parametrize("who,body,status,code", [
    ("amr", {"action": "complete", "message": "x"}, 409, "invalid_transition"),
    ("amr", {"action": "transfer", "message": "x", "to_bureau": "sti"}, 403, "forbidden"),
    ("agri", {"action": "accept"}, 404, "not_found"),
    ("amr", {"action": "reject"}, 422, "invalid"),
    ("amr", {"action": "explode"}, 422, "invalid"),
    ("amr", {"action": "accept", "version": 99}, 409, "stale"),
    ("amr", {"message": "no action"}, 400, "bad_json"),
])
def test_ticket_actions_api_errors(app, client, people, amr_ticket, who, body, status, code):
    response = client.post(f"/api/v1/tickets/{amr_ticket}/actions", json=body, headers=auth(app, people[who]))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    with app.app_context():
        assert db.session.scalar(select(Ticket.status).where(Ticket.number == amr_ticket)) == "submitted"


def test_ticket_actions_api_happy_path_and_rating(app, client, people, amr_ticket):
    headers = auth(app, people["amr"])
    data = client.post(f"/api/v1/tickets/{amr_ticket}/actions", json={"action": "accept"}, headers=headers).get_json()
    assert data["status"] == "accepted" and data["due_date"]
    data = client.post(f"/api/v1/tickets/{amr_ticket}/actions", json={"action": "complete", "message": "合格",
                                                                       "version": data["version"]},
                       headers=headers).get_json()
    assert data["status"] == "completed"
    number = amr_ticket.rsplit("-", 1)[0]
    ent = auth(app, people["a"])
    response = client.post(f"/api/v1/requests/{number}/rating", json={"ticket": amr_ticket, "score": 5,
                                                                       "comment": "很快"}, headers=ent)
    assert response.status_code == 201 and response.get_json()["round"] == 1
    again = client.post(f"/api/v1/requests/{number}/rating", json={"ticket": amr_ticket, "score": 5}, headers=ent)
    assert again.status_code == 409
    assert client.post(f"/api/v1/requests/{number}/rating", json={"ticket": amr_ticket, "score": 5},
                       headers=auth(app, people["b"])).status_code == 404
    assert client.post(f"/api/v1/requests/{number}/rating", json={"ticket": amr_ticket, "score": 5},
                       headers=headers).status_code == 403
    status = client.get(f"/api/v1/requests/{number}", headers=ent).get_json()["status"]
    assert status == "completed"


def test_tickets_api_filters(app, client, people, amr_ticket):
    headers = auth(app, people["amr"])
    assert client.get("/api/v1/tickets?overdue=maybe", headers=headers).status_code == 400
    assert client.get("/api/v1/tickets?status=bogus", headers=headers).status_code == 400
    assert client.get("/api/v1/tickets?overdue=true", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/tickets", headers=headers).get_json()["items"][0]["number"] == amr_ticket


def test_enterprise_rates_on_the_request_page(app, client, people, amr_ticket):
    headers = auth(app, people["amr"])
    client.post(f"/api/v1/tickets/{amr_ticket}/actions", json={"action": "accept"}, headers=headers)
    client.post(f"/api/v1/tickets/{amr_ticket}/actions", json={"action": "complete", "message": "合格"},
                headers=headers)
    login(client, people["a"])
    number = amr_ticket.rsplit("-", 1)[0]
    page = soup(client.get(f"/requests/{number}"))
    form = page.select_one(".rating-form")
    response = client.post(form["action"], data={"csrf_token": csrf_from(str(page)), "score": "1", "comment": "差"})
    assert response.status_code == 302
    page = soup(client.get(f"/requests/{number}"))
    assert page.select_one(".rating-form") is None
    assert "1 分（非常不满意）" in page.select_one(".timeline").get_text()


def test_co_handled_tickets_merge_into_the_deadline_order(app, people):
    """The agri handler sees agri's own tickets and the amr tickets agri co-handles, most urgent
    first across both, page by page, each once; nothing else of amr's."""
    from services.models import Bureau, CoHandler

    own = [submit(app, people["a"], ["RZ-001"]) for _ in range(3)]
    amr = [submit(app, people["b"], ["JL-002"], {"JL-002": {"instrument": f"秤{i}"}}) for i in range(4)]
    due = {own[0]: date(2026, 12, 3), own[1]: date(2026, 12, 9), own[2]: date(2026, 12, 1),
           amr[0]: date(2026, 12, 2), amr[1]: date(2026, 12, 8), amr[2]: date(2026, 12, 1)}
    with app.app_context():
        agri = db.session.scalar(select(Bureau).where(Bureau.code == "agri"))
        for t in db.session.scalars(select(Ticket).where(Ticket.number.in_(list(due)))):
            t.status, t.due_date = "accepted", due[t.number]
            if t.number in amr:
                t.co_handlers.append(CoHandler(bureau=agri, note="请协助核查"))
        db.session.commit()
        ids = {n: i for n, i in db.session.execute(select(Ticket.number, Ticket.id))}
        user = accounts.get_by_username(db.session, people["agri"])
        seen, cursor = [], None
        for _ in range(10):
            page = queuesvc.queue(db.session, user, queuesvc.QueueFilter(), after=cursor, limit=2)
            assert page.total == 6 and not page.total_capped
            seen += [t.number for t in page.tickets]
            cursor = page.next_cursor
            if not cursor:
                break
    assert seen == sorted(due, key=lambda n: (due[n], ids[n]))
    assert amr[3] not in seen


def test_a_huge_queue_says_more_than_instead_of_counting(app, client, people, monkeypatch):
    for i in range(4):
        submit(app, people["a"], ["JL-002"], {"JL-002": {"instrument": f"秤{i}"}})
    monkeypatch.setattr(queuesvc, "COUNT_CAP", 3)
    login(client, people["amr"])
    page = soup(client.get("/staff/queue"))
    assert "超过 3 件" in page.select_one(".result-count").get_text()
    assert len(page.select(".ticket-row")) == 4  # the cap limits the count, not the list
    data = client.get("/api/v1/tickets?per_page=2", headers=auth(app, people["amr"])).get_json()
    assert (data["total"], data["total_capped"], len(data["items"])) == (3, True, 2)
    data = client.get(f"/api/v1/tickets?per_page=2&after={data['next']}", headers=auth(app, people["amr"])).get_json()
    assert len(data["items"]) == 2 and data["next"] is None
