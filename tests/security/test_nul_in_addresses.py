"""A NUL character in an address, a query parameter or the progress lookup: a clear 404 or 400,
never a 500 (PostgreSQL cannot even compare a text with NUL in it)."""
from __future__ import annotations

import pytest

from tests.helpers import csrf, login, soup

PATHS = ["/services/JL%00-001", "/bureaus/amr%00", "/categories/x%00", "/requests/LX%00",
         "/staff/tickets/LX%00-1", "/api/v1/services/JL%00", "/open311/v2/services/JL%00.json",
         "/api/v1/requests/LX%00", "/account/reset/ab%00c"]
PARAMS = ["/search?q=%00abc", "/staff/queue?q=%00x", "/staff/queue?service=%00", "/dashboard?bureau=%00",
          "/api/v1/services?q=%00", "/admin/audit?entity=%00", "/need?q=%00"]


@pytest.mark.parametrize("url", PATHS)
def test_nul_in_the_path_is_not_found(client, people, url):
    login(client, people["sup"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", PARAMS)
def test_nul_in_a_parameter_never_fails(client, people, url):
    # A search simply finds nothing for it; a filter the database cannot compare is a 400 saying why.
    login(client, people["sup"])
    response = client.get(url)
    assert response.status_code in (200, 400, 403)  # 403: a page the supervisor may not open at all
    if response.status_code == 400:  # the error page says what is wrong
        assert "空字符" in response.get_data(as_text=True) or "参数" in response.get_data(as_text=True) \
            or "单位" in response.get_data(as_text=True)


def test_nul_in_the_progress_lookup_is_a_wrong_number(client):
    token = csrf(client, "/progress")
    response = client.post("/progress", data={"number": "LX\x00", "query_code": "AB\x00", "csrf_token": token})
    assert response.status_code == 404
    assert "申请编号或查询码不正确" in soup(response).get_text()
