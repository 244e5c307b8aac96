"""The public performance page (政务公开): figures per bureau and service, no enterprise data, cached per app."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.dashboard.cache import TTLCache, performance_cache
from portal.extensions import db
from services.models import Enterprise, Request, Ticket
from tests.helpers import login, soup

pytestmark = pytest.mark.usefixtures("frozen_today")


def rows(page, table_id: str) -> dict[str, list[str]]:
    return {tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in page.select(f"#{table_id} tbody tr") if tr.th}


def test_public_page_shows_figures_per_bureau_and_service(client, world):
    response = client.get("/performance")
    assert response.status_code == 200
    page = soup(response)
    bureaus = rows(page, "table-bureaus")
    # 2026 up to today: t1–t8 (t7 included), amr received 6 of which 3 completed
    assert bureaus["县市场监管局"] == ["6", "3", "66.7", "8.0", "3.67", "3"]
    assert bureaus["县农业农村局"] == ["2", "1", "100.0", "9.0", "3.0", "1"]
    services = rows(page, "table-services")
    assert services["强制检定计量器具检定"] == ["县市场监管局", "6", "3", "66.7", "8.0", "3.67", "3"]
    assert services["绿色食品认证申报"][:3] == ["县农业农村局", "1", "0"]
    assert page.select_one("svg.chart-svg")["role"] == "img"


def test_public_page_has_no_enterprise_data(app, client, world):
    html = client.get("/performance").get_data(as_text=True)
    with app.app_context():
        enterprises = db.session.scalars(select(Enterprise)).all()
        numbers = db.session.scalars(select(Request.number)).all() + db.session.scalars(select(Ticket.number)).all()
    assert enterprises and numbers
    for e in enterprises:
        assert e.name not in html and e.uscc not in html and e.contact_name not in html and e.mobile not in html
    for n in numbers:
        assert n not in html
    assert "/staff/" not in html


def test_public_page_is_cached_per_app(app, client, world, empty_app):
    first = rows(soup(client.get("/performance")), "table-bureaus")
    with app.app_context():  # a change within the TTL does not show yet
        t = db.session.scalar(select(Ticket).where(Ticket.number == world.t["t6"]))
        t.status = "completed"
        db.session.commit()
    assert rows(soup(client.get("/performance")), "table-bureaus") == first
    # another app (another database) computes its own figures: nothing leaks between apps
    other = soup(empty_app.test_client().get("/performance"))
    assert rows(other, "table-bureaus") == {}
    assert performance_cache(app) is not performance_cache(empty_app)
    performance_cache(app).clear()
    assert rows(soup(client.get("/performance")), "table-bureaus")["县市场监管局"][1] == "4"


def test_cache_ttl_can_be_configured(app, client, world):
    app.config["PERFORMANCE_CACHE_SECONDS"] = 0
    before = rows(soup(client.get("/performance")), "table-bureaus")["县市场监管局"]
    with app.app_context():
        t = db.session.scalar(select(Ticket).where(Ticket.number == world.t["t6"]))
        t.status = "completed"
        db.session.commit()
    assert rows(soup(client.get("/performance")), "table-bureaus")["县市场监管局"][1] == str(int(before[1]) + 1)


def test_ttl_cache_expires_and_stays_bounded():
    now = [0.0]
    cache = TTLCache(600, clock=lambda: now[0])
    calls = []
    assert cache.get_or_compute("k", lambda: calls.append(1) or "a") == "a"
    assert cache.get_or_compute("k", lambda: calls.append(1) or "b") == "a"
    now[0] = 601
    assert cache.get_or_compute("k", lambda: calls.append(1) or "c") == "c"
    assert len(calls) == 2
    for i in range(200):
        cache.get_or_compute(i, lambda: i)
    assert len(cache._data) <= 64


@pytest.mark.parametrize("year", ["1999", "abc", "2027"])
def test_bad_year_is_a_400_with_a_message(client, year):
    response = client.get("/performance", query_string={"year": year})
    assert response.status_code == 400
    assert "年份应为" in soup(response).select_one("#year-err").get_text()


def test_previous_year_has_no_tickets(client, world):
    page = soup(client.get("/performance", query_string={"year": "2025"}))
    assert rows(page, "table-bureaus") == {}
    assert page.select_one("#year option[selected]")["value"] == "2025"


def test_public_page_works_for_logged_in_users_too(client, world):
    login(client, world.people["a"])
    assert client.get("/performance").status_code == 200
