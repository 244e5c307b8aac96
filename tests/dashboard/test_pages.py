"""The supervisor dashboard and the bureau lead view: who may see what, filters, figures, charts."""
from __future__ import annotations

import pytest

from tests.dashboard.conftest import RANGE
from tests.helpers import login, soup

pytestmark = pytest.mark.usefixtures("frozen_today")


def kpis(page) -> dict[str, str]:
    return {div.dt.get_text(strip=True): div.select_one(".kpi-value").get_text(strip=True)
            for div in page.select("#kpis .kpi")}


def table(page, key: str) -> list[list[str]]:
    t = page.select_one(f'table[data-table="{key}"]')
    assert t is not None, key
    return [[c.get_text(strip=True) for c in tr.find_all(["th", "td"])] for tr in t.select("tbody tr")]


URLS = ["/dashboard", "/dashboard/bureau", "/dashboard/export.csv", "/dashboard/export.xlsx"]


@pytest.mark.parametrize("url", URLS + ["/staff/enterprises/91350100M000100Y43"])
def test_anonymous_users_go_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["a", "amr"])
@pytest.mark.parametrize("url", URLS)
def test_enterprises_and_handlers_are_refused(client, people, who, url):
    login(client, people[who])
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("who", ["sup", "admin"])
def test_supervisors_and_admins_see_every_bureau(client, world, who):
    login(client, world.people[who])
    response = client.get("/dashboard", query_string=RANGE)
    assert response.status_code == 200
    page = soup(response)
    assert {row[0] for row in table(page, "bureau")} == {"县市场监管局", "县农业农村局"}
    assert client.get("/dashboard/bureau").status_code == 403   # the lead view is for leads


def test_headline_figures_match_the_hand_computed_values(client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string=RANGE))
    figures = kpis(page)
    assert figures["办件总量"] == "7" and figures["已办结"] == "4" and figures["在办（积压）"] == "2"
    assert figures["超期未办结"] == "2" and figures["不予受理"] == "1"
    assert figures["按时办结率"] == "75.0" and figures["平均办理用时"] == "8.3"
    assert figures["平均签收用时"] == "1.2" and figures["满意度"] == "3.5" and figures["差评率"] == "25.0"
    assert table(page, "month") == [["2026-09", "3", "3"], ["2026-10", "4", "1"]]


def test_bureau_filter_on_the_page(client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string={**RANGE, "bureau": "agri"}))
    assert kpis(page)["办件总量"] == "2" and kpis(page)["按时办结率"] == "100.0"
    assert page.select_one("#bureau option[selected]")["value"] == "agri"
    assert [row[0] for row in table(page, "overdue")] == [world.t["t5"]]


def test_charts_are_inline_svg_with_tables_and_no_script(client, world):
    login(client, world.people["sup"])
    response = client.get("/dashboard", query_string=RANGE)
    html = response.get_data(as_text=True)
    page = soup(response)
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    svgs = page.select("svg.chart-svg")
    assert len(svgs) == 2
    for svg in svgs:
        assert svg["role"] == "img" and svg.title.get_text() and svg.desc.get_text()
        assert svg.select("rect.chart-bar")
    for t in page.select("table.stats-table"):
        assert t.caption and t.caption.get_text(strip=True)
        assert all(th.get("scope") == "col" for th in t.thead.find_all("th"))
        assert all(th.get("scope") == "row" for th in t.tbody.find_all("th"))
    bars = {text.get_text() for text in svgs[0].select("text.chart-label")}
    assert bars == {"县市场监管局", "县农业农村局"}


def test_overdue_list_links_to_the_staff_ticket_page(client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string=RANGE))
    links = [a["href"] for a in page.select('table[data-table="overdue"] tbody th a')]
    assert links == [f"/staff/tickets/{world.t['t5']}", f"/staff/tickets/{world.t['t4']}"]
    assert client.get(links[0]).status_code == 200


@pytest.mark.parametrize("args,field,words", [
    ({"from": "2026-10-31", "to": "2026-09-01"}, "from", "开始日期不能晚于结束日期"),
    ({"from": "2026-02-30"}, "from", "格式"),
    ({"to": "31/10/2026"}, "to", "格式"),
    ({"from": "2019-01-01", "to": "2026-10-31"}, "to", "不能超过 5 年"),
    ({"bureau": "nowhere"}, "bureau", "没有编码为“nowhere”的单位"),
])
def test_bad_filters_give_400_and_a_clear_message(client, world, args, field, words):
    login(client, world.people["sup"])
    response = client.get("/dashboard", query_string=args)
    assert response.status_code == 400
    page = soup(response)
    summary = page.select_one(".form-error-summary")
    assert summary is not None and words in summary.get_text()
    assert summary.select_one(f'a[href="#{field}"]') is not None
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    assert words in page.select_one(f"#{field}-err").get_text()
    assert not page.select("#kpis")
    assert client.get("/dashboard/export.csv", query_string=args).status_code == 400


def test_lead_sees_only_the_own_bureau_whatever_the_query(client, world):
    login(client, world.people["amr_lead"])
    response = client.get("/dashboard", query_string={**RANGE, "bureau": "agri"})
    assert response.status_code == 302 and "/dashboard/bureau" in response.headers["Location"]
    assert "bureau=" not in response.headers["Location"]
    page = soup(client.get("/dashboard/bureau", query_string={**RANGE, "bureau": "agri"}))
    assert "县市场监管局" in page.h1.get_text()
    assert kpis(page)["办件总量"] == "5" and kpis(page)["按时办结率"] == "66.7"
    assert {row[0] for row in table(page, "bureau")} == {"县市场监管局"}
    assert [row[0] for row in table(page, "overdue")] == [world.t["t4"]]
    assert page.select_one("#bureau") is None
    html = str(page)
    assert world.t["t5"] not in html and world.t["t8"] not in html and "县农业农村局" not in html


def test_other_lead_sees_the_other_bureau(client, world):
    login(client, world.people["agri_lead"])
    page = soup(client.get("/dashboard/bureau", query_string={**RANGE, "bureau": "amr"}))
    assert kpis(page)["办件总量"] == "2"
    assert {row[0] for row in table(page, "bureau")} == {"县农业农村局"}


def test_lead_without_bureau_is_refused(app, client):
    from portal.extensions import db
    from services.accounts import users as accounts
    from tests.helpers import make_staff

    name = make_staff(app, "floating-lead", "lead", "amr")
    with app.app_context():
        user = accounts.get_by_username(db.session, name)
        user.bureau_id = None
        db.session.commit()
    login(client, name)
    assert client.get("/dashboard/bureau").status_code == 403


def test_empty_filters_show_the_last_twelve_months(client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard"))
    assert page.select_one("#from")["value"] == "2025-12-01" and page.select_one("#to")["value"] == "2026-11-29"
    assert [row[0] for row in table(page, "month")][0] == "2025-12" and len(table(page, "month")) == 12
    assert kpis(page)["办件总量"] == "8"          # t1–t8 were all submitted in 2026
