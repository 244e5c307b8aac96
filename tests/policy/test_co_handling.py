"""协办: while it is open the helping bureau reads the ticket, its request and its files; once it
has answered, the ticket leaves its queue, it can do nothing more, and it keeps only the history
up to its answer."""
from __future__ import annotations

from tests.helpers import csrf_from, login, soup, token_for
from tests.policy.scenes import at


def _page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response, soup(response)


def test_co_handling_bureau_opens_the_ticket_the_request_and_the_attachment(app, client, co_handled):
    s = co_handled
    login(client, s.people["agri"])
    _, ticket_page = _page(client, f"/staff/tickets/{s.numbers['ticket']}")
    material = f"/attachments/{s.files['material']}"
    assert ticket_page.select_one(f'a[href="{material}"]') is not None
    _, request_page = _page(client, f"/requests/{s.numbers['request']}")
    assert request_page.select_one(f'a[href="{material}"]') is not None
    response = client.get(material)
    assert response.status_code == 200 and response.data == b"%PDF-1.4 policy test"
    # The reply amr sent with a file while the co-handling is open: its file too.
    assert client.get(f"/attachments/{s.files['reply']}").status_code == 200
    api = app.test_client().get(f"/api/v1/requests/{s.numbers['request']}",
                                headers={"Authorization": f"Bearer {token_for(app, s.people['agri'])}"})
    assert api.status_code == 200
    assert s.numbers["ticket"] in [t["number"] for t in api.get_json()["tickets"]]


def test_co_handling_bureau_has_the_ticket_in_its_queue_while_it_is_open(app, client, co_handled):
    s = co_handled
    login(client, s.people["agri"])
    assert s.numbers["ticket"] in client.get("/staff/queue").get_data(as_text=True)
    headers = {"Authorization": f"Bearer {token_for(app, s.people['agri'])}"}
    api = app.test_client().get("/api/v1/tickets", headers=headers)
    assert s.numbers["ticket"] in [t["number"] for t in api.get_json()["items"]]


def test_while_it_is_open_the_helping_bureau_may_only_give_its_opinion(app, co_handled):
    s = co_handled
    headers = {"Authorization": f"Bearer {token_for(app, s.people['agri'])}"}
    url = f"/api/v1/tickets/{s.numbers['ticket']}/actions"
    api = app.test_client()
    for action in ("note", "reply", "complete", "transfer"):
        response = api.post(url, json={"action": action, "message": "越权操作", "to_bureau": "sti"}, headers=headers)
        assert response.status_code == 403, (action, response.get_json())
    with at(40):
        response = api.post(url, json={"action": "co_reply", "message": "同意"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["bureau"] == "amr"


def test_a_bureau_never_asked_sees_none_of_it(app, client, co_handled):
    s = co_handled
    login(client, s.people["sti"])
    for url in (f"/staff/tickets/{s.numbers['ticket']}", f"/requests/{s.numbers['request']}",
                f"/attachments/{s.files['material']}", f"/attachments/{s.files['reply']}"):
        assert client.get(url).status_code == 404, url


def test_after_its_answer_the_ticket_leaves_the_helping_bureaus_queue(app, client, co_answered):
    s = co_answered
    login(client, s.people["agri"])
    with at(60):
        queue = client.get("/staff/queue", query_string={"status": "all"})
        assert queue.status_code == 200
        assert s.numbers["ticket"] not in queue.get_data(as_text=True)
        token = token_for(app, s.people["agri"])
        api = app.test_client().get("/api/v1/tickets", query_string={"status": "all"},
                                    headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert s.numbers["ticket"] not in [t["number"] for t in api.get_json()["items"]]
    # amr still has it.
    other = app.test_client()
    login(other, s.people["amr"])
    assert s.numbers["ticket"] in other.get("/staff/queue").get_data(as_text=True)


def test_after_its_answer_the_helping_bureau_cannot_act(app, client, co_answered):
    s = co_answered
    number = s.numbers["ticket"]
    token = token_for(app, s.people["agri"])
    api = app.test_client()
    for action in ("co_reply", "note", "reply", "complete"):
        response = api.post(f"/api/v1/tickets/{number}/actions", json={"action": action, "message": "再补充一点"},
                            headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403, (action, response.get_json())
    login(client, s.people["agri"])
    page = client.get(f"/staff/tickets/{number}")
    assert page.status_code == 200
    form = {"co_reply-action": "co_reply", "co_reply-message": "再补充一点", "co_reply-version": "",
            "co_reply-csrf_token": csrf_from(page.data)}
    assert client.post(f"/staff/tickets/{number}/actions/co_reply", data=form).status_code == 403
    assert "再补充一点" not in client.get(f"/staff/tickets/{number}").get_data(as_text=True)


def test_after_its_answer_the_ticket_page_offers_the_helping_bureau_no_action(client, co_answered):
    """Read-only: no 协办意见 form that the server would refuse anyway."""
    s = co_answered
    number = s.numbers["ticket"]
    login(client, s.people["agri"])
    page = soup(client.get(f"/staff/tickets/{number}"))
    assert not page.select(f'form[action^="/staff/tickets/{number}/actions/"]')


def _history_checks(text: str, s) -> None:
    assert s.texts["answer"] in text, "what the helping bureau wrote stays readable"
    assert s.texts["ask"] in text and s.texts["before"] in text, "the history up to its answer stays"
    assert s.texts["after"] not in text, "a note written after its answer"


def test_after_its_answer_the_ticket_page_hides_later_internal_notes(client, co_answered):
    s = co_answered
    login(client, s.people["agri"])
    response, _ = _page(client, f"/staff/tickets/{s.numbers['ticket']}")
    _history_checks(response.get_data(as_text=True), s)


def test_after_its_answer_the_request_page_and_api_hide_later_internal_notes(app, client, co_answered):
    s = co_answered
    login(client, s.people["agri"])
    response, _ = _page(client, f"/requests/{s.numbers['request']}")
    _history_checks(response.get_data(as_text=True), s)
    api = app.test_client().get(f"/api/v1/requests/{s.numbers['request']}",
                                headers={"Authorization": f"Bearer {token_for(app, s.people['agri'])}"})
    assert api.status_code == 200
    _history_checks("\n".join(e["message"] for e in api.get_json()["timeline"]), s)


def test_the_owning_bureau_reads_everything_after_the_answer(client, co_answered):
    s = co_answered
    login(client, s.people["amr"])
    text = client.get(f"/staff/tickets/{s.numbers['ticket']}").get_data(as_text=True)
    for key in ("before", "ask", "answer", "after"):
        assert s.texts[key] in text, key
