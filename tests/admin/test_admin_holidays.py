"""Holiday overrides: add and remove change the working-day calendar at once."""

from __future__ import annotations

from datetime import date

from portal.extensions import db
from services.tickets import workdays
from tests.admin.conftest import audit_rows, post_form
from tests.helpers import soup


def calendar(app) -> workdays.Calendar:
    with app.app_context():
        return workdays.Calendar.from_session(db.session)


def test_add_and_remove_an_override(app, admin_client):
    day = date(2026, 6, 15)  # a Monday
    assert calendar(app).is_workday(day)
    response = post_form(
        admin_client, "/admin/holidays", {"day": "2026-06-15", "kind": "holiday", "note": "县庆"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/holidays?year=2026")
    assert not calendar(app).is_workday(day)
    page = soup(admin_client.get("/admin/holidays?year=2026"))
    assert "县庆" in page.select_one("table").get_text()

    response = post_form(
        admin_client, "/admin/holidays?year=2026", {}, action="/admin/holidays/2026-06-15/delete"
    )
    assert response.status_code == 302
    assert calendar(app).is_workday(day)
    rows = audit_rows(app, "holiday")
    assert [(r.action, r.entity_key) for r in rows] == [("create", "2026-06-15"), ("delete", "2026-06-15")]
    assert rows[0].detail["after"] == {"day": "2026-06-15", "is_workday": False, "note": "县庆"}


def test_make_up_working_day_and_uncovered_year_warning(app, admin_client):
    last = workdays.covered_years().stop - 1
    future = last + 1
    page = soup(admin_client.get(f"/admin/holidays?year={future}"))
    assert workdays.uncovered_message(future) in page.get_text()
    saturday = date(future, 1, 2)
    while saturday.weekday() != 5:
        saturday = date(future, 1, saturday.day + 1)
    response = post_form(
        admin_client, "/admin/holidays", {"day": saturday.isoformat(), "kind": "workday", "note": "调休上班"}
    )
    assert response.status_code == 302
    assert calendar(app).is_workday(saturday)
    page = soup(admin_client.get(f"/admin/holidays?year={last}"))
    assert workdays.uncovered_message(last) not in page.get_text()


def test_bad_input_refused(app, admin_client):
    response = post_form(admin_client, "/admin/holidays", {"day": "明天", "kind": "holiday", "note": ""})
    assert response.status_code == 422
    assert soup(response).select_one("#day-err") is not None
    response = post_form(
        admin_client, "/admin/holidays", {"day": "2026-06-15", "kind": "holiday", "note": "长" * 101}
    )
    assert response.status_code == 422
    assert soup(response).select_one("#note-err") is not None
    assert audit_rows(app) == []
    assert calendar(app).overrides == {}
