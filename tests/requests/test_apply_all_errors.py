"""The application form reports every problem at once — contact and service fields together —
next to each field, and names a file whose content is not what its name says."""
from __future__ import annotations

import io

from tests.helpers import csrf_from, login, soup


def errors_of(response) -> dict[str, str]:
    return {p["id"][:-4]: p.get_text() for p in soup(response).select(".field-error[id]")}


def open_form(client, url="/apply?services=JL-001"):
    response = client.get(url)
    assert response.status_code == 200
    page = soup(response)
    return page, {"csrf_token": csrf_from(response.data),
                  "idempotency_key": page.select_one("input[name=idempotency_key]")["value"]}


def test_an_empty_form_reports_contact_and_service_fields_together(client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    response = client.post("/apply", data={**tokens, "services": "JL-001", "contact_name": "",
                                           "contact_mobile": ""})
    assert response.status_code == 422
    errors = errors_of(response)
    assert set(errors) >= {"contact_name", "contact_mobile", "f_capacity", "f_mode"}
    assert "必填" in errors["f_capacity"] and "必填" in errors["f_mode"]
    items = [li.get_text(strip=True) for li in soup(response).select(".form-error-summary li")]
    assert len(items) == len(set(items)) == 4, items
    page = soup(response)  # top to bottom, as on the page: the service's fields come before the contact
    assert [a["href"][1:] for a in page.select(".form-error-summary a")] == \
        [p["id"][:-4] for p in page.select(".field-error[id]")] == \
        ["f_capacity", "f_mode", "contact_name", "contact_mobile"]


def test_confirm_also_reports_everything(client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    response = client.post("/apply/confirm", data={**tokens, "services": "JL-001", "contact_name": "",
                                                   "contact_mobile": "1390736", "f_capacity": "很多"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    errors = errors_of(response)
    assert "请填写联系人" in errors["contact_name"]
    assert "应为数字" in errors["f_capacity"] and "必填" in errors["f_mode"]


def test_required_service_fields_are_marked(client, people):
    login(client, people["a"])
    page, _ = open_form(client)
    marked = {label["for"] for label in page.select("label") if label.find_next_sibling("span", class_="req")}
    assert {"f_capacity", "contact_name", "contact_mobile"} <= marked
    assert "f_preferred_date" not in marked
    legend = page.select_one("#f_mode legend")
    assert legend.select_one(".req")  # the radio group says it is required too
    assert "带 * 的为必填项" in page.get_text()


def test_a_text_file_named_pdf_is_called_not_a_pdf(app, client, people):
    login(client, people["a"])
    _, tokens = open_form(client)
    data = {**tokens, "services": "JL-001", "contact_name": "李华", "contact_mobile": "13907361234",
            "f_capacity": "60", "f_mode": "onsite",
            "attachments": [(io.BytesIO("这是一段文字，不是 PDF。".encode()), "营业执照.pdf")]}
    response = client.post("/apply/confirm", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    message = soup(response).select_one("#attachments-err").get_text()
    assert "“营业执照.pdf”的文件内容不是 PDF" in message
    assert "不是允许的文件类型" not in message


def test_progress_lookup_error_is_listed_once(client):
    page = client.get("/progress")
    response = client.post("/progress", data={"csrf_token": csrf_from(page.data), "number": "LX20260101000001",
                                              "query_code": "ABCDEF"})
    assert response.status_code == 404
    items = [li.get_text(strip=True) for li in soup(response).select(".form-error-summary li")]
    assert len(items) == 1, items


def test_need_form_reports_short_text_and_bad_mobile_together(client, people):
    login(client, people["a"])
    page = client.get("/need")
    response = client.post("/need", data={
        "csrf_token": csrf_from(page.data), "idempotency_key": soup(page).select_one("input[name=idempotency_key]")[
            "value"], "action": "send", "description": "太短", "contact_name": "", "contact_mobile": "1390736"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert "至少 10 个字" in errors["description"]
    assert "请填写联系人" in errors["contact_name"]
    assert "11 位手机号码" in errors["contact_mobile"]
