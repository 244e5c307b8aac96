"""一件事一次办: one request, a ticket at amr and one at agri. Each bureau reads its own ticket's
history on the request page and through the API — never the other's internal notes or routing
reasons, nor the files that came with the other's replies."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import TicketEvent
from tests.helpers import login, soup, token_for


def _api(app, username: str, number: str) -> dict:
    response = app.test_client().get(f"/api/v1/requests/{number}",
                                     headers={"Authorization": f"Bearer {token_for(app, username)}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _internal_lines_of(app, ticket: str) -> list[str]:
    """The internal history lines of a ticket ("routed", "note", …) as stored."""
    from services.models import Ticket

    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == ticket))
        return [e.message for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                                                TicketEvent.public.is_(False)))]


def test_the_agri_handler_reads_only_the_agri_tickets_timeline_through_the_api(app, bundle):
    s = bundle
    data = _api(app, s.people["agri"], s.numbers["request"])
    tickets_in_timeline = {e["ticket"] for e in data["timeline"]}
    assert s.numbers["amr"] not in tickets_in_timeline
    assert s.numbers["agri"] in tickets_in_timeline
    kinds = {(e["ticket"], e["kind"]) for e in data["timeline"]}
    assert (s.numbers["agri"], "routed") in kinds and (s.numbers["agri"], "note") in kinds
    assert s.texts["agri_note"] in [e["message"] for e in data["timeline"]]


def test_the_api_answer_carries_nothing_of_the_amr_tickets_internal_lines(app, bundle):
    s = bundle
    body = str(_api(app, s.people["agri"], s.numbers["request"]))
    hidden = _internal_lines_of(app, s.numbers["amr"])
    assert s.texts["amr_note"] in hidden and s.texts["amr_reason"] in hidden
    for line in hidden:
        assert line not in body, f"the agri handler reads amr's internal line {line!r}"


def test_the_request_page_shows_the_agri_handler_nothing_of_the_amr_tickets_internal_lines(app, client, bundle):
    s = bundle
    login(client, s.people["agri"])
    response = client.get(f"/requests/{s.numbers['request']}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert s.texts["agri_note"] in text
    for line in _internal_lines_of(app, s.numbers["amr"]):
        assert line not in text, f"the agri handler reads amr's internal line {line!r}"


def test_the_file_of_an_amr_reply_does_not_open_for_agri(client, bundle):
    s = bundle
    login(client, s.people["agri"])
    assert client.get(f"/attachments/{s.files['amr_reply']}").status_code == 404


def test_the_request_page_lists_no_file_of_an_amr_reply_for_agri(app, client, bundle):
    s = bundle
    login(client, s.people["agri"])
    page = soup(client.get(f"/requests/{s.numbers['request']}"))
    assert page.select_one(f'a[href="/attachments/{s.files["amr_reply"]}"]') is None
    assert "amr答复.pdf" not in page.get_text()
    api = str(_api(app, s.people["agri"], s.numbers["request"])["attachments"])
    assert "amr答复.pdf" not in api and f"/attachments/{s.files['amr_reply']}" not in api


@pytest.mark.parametrize("who", ["amr", "sup"])
def test_the_amr_handler_and_the_supervisor_read_the_amr_lines(app, client, bundle, who):
    s = bundle
    login(client, s.people[who])
    text = client.get(f"/requests/{s.numbers['request']}").get_data(as_text=True)
    assert s.texts["amr_note"] in text
    assert client.get(f"/attachments/{s.files['amr_reply']}").status_code == 200
    data = _api(app, s.people[who], s.numbers["request"])
    assert s.texts["amr_note"] in [e["message"] for e in data["timeline"]]
    if who == "amr":  # amr, in turn, does not read agri's note
        assert s.texts["agri_note"] not in text
        assert s.numbers["agri"] not in {e["ticket"] for e in data["timeline"]}


def test_the_enterprise_reads_the_public_lines_of_both_tickets_and_no_note(app, client, bundle):
    s = bundle
    data = _api(app, s.people["a"], s.numbers["request"])
    assert all(e["public"] for e in data["timeline"])
    assert {s.numbers["amr"], s.numbers["agri"]} <= {e["ticket"] for e in data["timeline"]}
    login(client, s.people["a"])
    text = client.get(f"/requests/{s.numbers['request']}").get_data(as_text=True)
    assert s.texts["amr_reply"] in text
    for key in ("amr_note", "agri_note", "amr_reason"):
        assert s.texts[key] not in text, key
    assert client.get(f"/attachments/{s.files['amr_reply']}").status_code == 200
