"""质量档案 /staff/enterprises/<uscc>: staff only, scoped to the tickets the staff member may see."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import Enterprise
from tests.dashboard.conftest import act, bj, d
from tests.helpers import USCC_A, USCC_B, login, make_staff, soup


def numbers(page) -> set[str]:
    return {th.get_text(strip=True) for th in page.select("#table-tickets tbody th")}


@pytest.mark.parametrize("who", ["sup", "admin"])
def test_supervisors_see_every_ticket_of_the_enterprise(client, world, who):
    login(client, world.people[who])
    response = client.get(f"/staff/enterprises/{USCC_A}")
    assert response.status_code == 200
    page = soup(response)
    t = world.t
    assert numbers(page) == {t["t1"], t["t3"], t["t4"], t["t5"], t["t7"]}
    assert "澧县兰江食品有限公司" in page.h1.get_text()
    assert page.select_one(f'a[href="/staff/tickets/{t["t1"]}"]') is not None
    services = {th.get_text(strip=True) for th in page.select("#table-services tbody th")}
    assert services == {"强制检定计量器具检定", "绿色食品认证申报"}
    scores = [td.get_text(strip=True) for td in page.select("#table-ratings tbody td.num")]
    assert sorted(scores) == ["2", "5"]


def test_handler_sees_only_the_own_bureau(client, world):
    t = world.t
    login(client, world.people["amr"])
    page = soup(client.get(f"/staff/enterprises/{USCC_A}"))
    assert numbers(page) == {t["t1"], t["t3"], t["t4"], t["t7"]}
    assert t["t5"] not in str(page) and "绿色食品认证申报" not in str(page)
    assert "仅显示县市场监管局承办或协办的办件" in page.get_text()


def test_handler_of_another_bureau_sees_none_of_its_tickets(client, world):
    t = world.t
    login(client, world.people["agri"])
    page = soup(client.get(f"/staff/enterprises/{USCC_B}"))
    assert numbers(page) == {t["t8"]}
    html = str(page)
    for hidden in ("t2", "t6"):
        assert t[hidden] not in html
    assert "强制检定计量器具检定" not in html
    scores = [td.get_text(strip=True) for td in page.select("#table-ratings tbody td.num")]
    assert scores == ["3"]


def test_a_bureau_that_never_had_its_tickets_cannot_open_the_file(app, client, world):
    """Contact name, mobile and e-mail stay with the bureaus that work for the enterprise."""
    login(client, make_staff(app, "sti-h", "handler", "sti"))
    response = client.get(f"/staff/enterprises/{USCC_A}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    with app.app_context():
        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == USCC_A))
        private = [enterprise.name, enterprise.contact_name, enterprise.mobile, enterprise.email]
    assert not any(value and value in text for value in private)
    assert not any(n in text for n in world.t.values())


def test_co_handling_bureau_sees_the_co_handled_ticket(client, world):
    act(client.application, world.people["sup"], world.t["t4"], "co_handle", bj(d(10, 20)), "请协助检测", "agri")
    login(client, world.people["agri"])
    page = soup(client.get(f"/staff/enterprises/{USCC_A}"))
    assert numbers(page) == {world.t["t4"], world.t["t5"]}


def test_lead_sees_own_bureau_and_enterprises_are_refused(client, world):
    login(client, world.people["amr_lead"])
    assert world.t["t5"] not in client.get(f"/staff/enterprises/{USCC_A}").get_data(as_text=True)
    other = client.application.test_client()
    login(other, world.people["a"])
    assert other.get(f"/staff/enterprises/{USCC_A}").status_code == 403


@pytest.mark.parametrize("uscc", ["91350100M000100Y44", "nonsense", "x" * 300])
def test_unknown_enterprise_is_404(client, world, uscc):
    login(client, world.people["sup"])
    assert client.get(f"/staff/enterprises/{uscc}").status_code == 404


def test_lower_case_code_is_found(client, world):
    login(client, world.people["sup"])
    assert client.get(f"/staff/enterprises/{USCC_A.lower()}").status_code == 200
