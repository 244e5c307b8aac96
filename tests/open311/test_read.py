"""GET /open311/v2/requests and /requests/<id>: what an api_key may see, filtered."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import Request
from services.requests import actions as request_actions
from tests.open311.helpers import BASE, error_descriptions, submit_ok, xml_of


def listing(client, key: str, fmt: str = "json", **params):
    return client.get(f"{BASE}/requests.{fmt}", query_string={"api_key": key, **params})


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.data
    return [r["service_request_id"] for r in response.get_json()]


def set_created(app, number: str, when: datetime) -> None:
    with app.app_context():
        req = db.session.scalar(select(Request).where(Request.number == number))
        req.created_at = when
        db.session.commit()


def withdraw(app, number: str) -> None:
    with app.app_context():
        req = db.session.scalar(select(Request).where(Request.number == number))
        request_actions.withdraw(db.session, req.user, number, "不需要了")


def test_one_request_json(client, key_a):
    number = submit_ok(client, key_a)
    response = client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": key_a})
    assert response.status_code == 200
    [r] = response.get_json()
    assert r["service_request_id"] == number
    assert r["status"] == "open" and r["status_notes"] == "已提交，待签收"
    assert r["service_code"] == "JL-001" and r["service_name"] == "汽车衡（地磅）检定"
    assert r["agency_responsible"] == "澧县市场监督管理局"
    assert "承诺" in r["service_notice"]
    assert r["description"] == "地磅年检"
    assert r["requested_datetime"].endswith("+08:00")
    assert datetime.fromisoformat(r["updated_datetime"]) >= datetime.fromisoformat(r["requested_datetime"])
    assert r["expected_datetime"] is None
    assert r["address"] == "" and r["media_url"] == "" and r["lat"] is None and r["long"] is None


def test_one_request_xml(client, key_a):
    number = submit_ok(client, key_a)
    root = xml_of(client.get(f"{BASE}/requests/{number}.xml", query_string={"api_key": key_a}))
    assert root.tag == "service_requests"
    [r] = root.findall("request")
    assert r.findtext("service_request_id") == number
    assert r.findtext("status") == "open"
    assert r.findtext("agency_responsible") == "澧县市场监督管理局"
    assert r.find("lat") is None  # no location: left out rather than empty


def test_expected_datetime_is_the_latest_due_date(app, client, key_a):
    number = submit_ok(client, key_a)
    with app.app_context():
        req = db.session.scalar(select(Request).where(Request.number == number))
        req.tickets[0].due_date = date(2026, 3, 9)
        db.session.commit()
    [r] = client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": key_a}).get_json()
    assert r["expected_datetime"] == "2026-03-09T23:59:59+08:00"


def test_list_shows_own_requests_newest_first(client, key_a, key_b):
    first = submit_ok(client, key_a)
    second = submit_ok(client, key_a, changes={"attribute[mode]": "lab"})
    other = submit_ok(client, key_b)
    assert numbers(listing(client, key_a)) == [second, first]
    assert numbers(listing(client, key_b)) == [other]
    root = xml_of(listing(client, key_a, "xml"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [second, first]


def test_other_enterprise_gets_404(client, key_a, key_b):
    number = submit_ok(client, key_a)
    response = client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": key_b})
    assert response.status_code == 404
    assert error_descriptions(response)
    response = client.get(f"{BASE}/requests/{number}.xml", query_string={"api_key": key_b})
    assert response.status_code == 404
    assert xml_of(response).findtext("error/code") == "404"
    assert numbers(listing(client, key_b, service_request_id=number)) == []


def test_unknown_number_is_404(client, key_a):
    response = client.get(f"{BASE}/requests/LX20990101000001.json", query_string={"api_key": key_a})
    assert response.status_code == 404


def test_reading_needs_an_api_key(client, key_a):
    number = submit_ok(client, key_a)
    for url in (f"{BASE}/requests.json", f"{BASE}/requests/{number}.json"):
        response = client.get(url)
        assert response.status_code == 403
        assert "api_key" in error_descriptions(response)[0]
        assert client.get(url, query_string={"api_key": "lxq_wrong"}).status_code == 403
    response = client.get(f"{BASE}/requests.xml")
    assert response.status_code == 403
    assert xml_of(response).findtext("error/code") == "403"


def test_staff_see_their_bureaus_requests(app, client, key_a, staff_key):
    from tests.helpers import make_staff, token_for

    number = submit_ok(client, key_a)
    assert numbers(listing(client, staff_key)) == [number]
    response = client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": staff_key})
    assert response.status_code == 200
    other_bureau = token_for(app, make_staff(app, "handler-sti", "handler", "sti"))
    assert numbers(listing(client, other_bureau)) == []
    assert client.get(f"{BASE}/requests/{number}.json",
                      query_string={"api_key": other_bureau}).status_code == 404


def test_filter_by_ids(client, key_a):
    a = submit_ok(client, key_a)
    b = submit_ok(client, key_a)
    c = submit_ok(client, key_a)
    assert sorted(numbers(listing(client, key_a, service_request_id=f"{a}, {c},LX0"))) == sorted([a, c])
    # the spec: with service_request_id the other filters are ignored
    assert numbers(listing(client, key_a, service_request_id=b, status="closed")) == [b]


def test_filter_by_service_code(client, key_a):
    jl1 = submit_ok(client, key_a)
    jl2 = submit_ok(client, key_a, base={"service_code": "JL-002", "attribute[instrument]": "加油机",
                                         "phone": "13907361234"})
    assert numbers(listing(client, key_a, service_code="JL-002")) == [jl2]
    assert sorted(numbers(listing(client, key_a, service_code="JL-001,JL-002"))) == sorted([jl1, jl2])


def test_filter_by_status(app, client, key_a):
    still_open = submit_ok(client, key_a)
    closed = submit_ok(client, key_a)
    withdraw(app, closed)
    assert numbers(listing(client, key_a, status="open")) == [still_open]
    assert numbers(listing(client, key_a, status="closed")) == [closed]
    assert len(numbers(listing(client, key_a, status="open,closed"))) == 2
    [r] = client.get(f"{BASE}/requests/{closed}.json", query_string={"api_key": key_a}).get_json()
    assert r["status"] == "closed" and r["status_notes"] == "已撤回"
    response = listing(client, key_a, status="pending")
    assert response.status_code == 400 and "status" in error_descriptions(response)[0]


def test_filter_by_dates(app, client, key_a):
    january = submit_ok(client, key_a)
    march = submit_ok(client, key_a)
    set_created(app, january, datetime(2025, 1, 15, 2, 0, tzinfo=timezone.utc))  # 10:00 in 澧县
    set_created(app, march, datetime(2025, 3, 1, 1, 0, tzinfo=timezone.utc))

    assert numbers(listing(client, key_a, start_date="2025-02-01T00:00:00+08:00")) == [march]
    assert numbers(listing(client, key_a, end_date="2025-02-01T00:00:00Z")) == [january]
    assert numbers(listing(client, key_a, start_date="2025-01-15T10:00:00+08:00",
                           end_date="2025-01-15T10:00:00+08:00")) == [january]
    assert numbers(listing(client, key_a, start_date="2025-01-15T10:00:01+08:00",
                           end_date="2025-02-28T00:00:00+08:00")) == []
    # a date alone covers the whole day; an unencoded "+" arrives as a space and still works
    assert numbers(listing(client, key_a, start_date="2025-03-01", end_date="2025-03-01")) == [march]
    assert numbers(listing(client, key_a, end_date="2025-01-15")) == [january]
    assert numbers(listing(client, key_a, start_date="2025-03-01T09:00:00 08:00")) == [march]
    [r] = client.get(f"{BASE}/requests/{january}.json", query_string={"api_key": key_a}).get_json()
    assert r["requested_datetime"] == "2025-01-15T10:00:00+08:00"


@pytest.mark.parametrize("params", [
    {"start_date": "yesterday"},
    {"end_date": "2025-13-01"},
    {"start_date": "2025-02-01", "end_date": "2025-01-01"},
    {"start_date": "2025-02-01T00:00:00+08:00", "end_date": "2025-01-31T23:00:00+08:00"},
    {"page_size": "0"},
    {"page_size": "1001"},
    {"page": "x"},
])
def test_bad_parameters_are_400(client, key_a, params):
    response = listing(client, key_a, **params)
    assert response.status_code == 400
    assert error_descriptions(response)
    response = listing(client, key_a, "xml", **params)
    assert response.status_code == 400
    assert xml_of(response).findtext("error/code") == "400"


def test_default_page_is_50_most_recent(app, client, key_a):
    from services.accounts import users as accounts

    with app.app_context():
        user = accounts.user_for_token(db.session, key_a)
        for n in range(55):
            db.session.add(Request(number=f"LXTEST{n:04d}", kind="service", enterprise_id=user.enterprise_id,
                                   user=user, contact_name="李华", contact_mobile="13907361234",
                                   status="submitted", query_code="ABCDEF", idempotency_key=f"k{n}",
                                   created_at=datetime(2025, 1, 1, tzinfo=timezone.utc).replace(minute=n)))
        db.session.commit()
    listed = numbers(listing(client, key_a))
    assert len(listed) == 50 and listed[0] == "LXTEST0054" and listed[-1] == "LXTEST0005"
    last_page = [f"LXTEST{n:04d}" for n in range(4, -1, -1)]
    assert numbers(listing(client, key_a, page_size="10", page="6")) == last_page
