"""Helpers for the Open311 tests."""
from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

BASE = "/open311/v2"

JL001 = {"service_code": "JL-001", "attribute[capacity]": "60", "attribute[mode]": "onsite",
         "attribute[preferred_date]": "2026-12-01", "description": "地磅年检", "phone": "13907361234"}


def xml_of(response) -> ET.Element:
    """The parsed XML answer, after checking it is declared as UTF-8 XML."""
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.data.startswith(b"<?xml")
    return ET.fromstring(response.data)


def submit(client, key: str | None, fmt: str = "json", changes: dict[str, Any] | None = None,
           base: dict[str, Any] | None = None):
    """POST a form (JL-001 by default); a `None` in `changes` drops that field."""
    data: dict[str, Any] = dict(JL001 if base is None else base)
    if key is not None:
        data["api_key"] = key
    for k, v in (changes or {}).items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def submit_ok(client, key: str, changes: dict[str, Any] | None = None,
              base: dict[str, Any] | None = None) -> str:
    response = submit(client, key, changes=changes, base=base)
    assert response.status_code == 201, response.get_json()
    return response.get_json()[0]["service_request_id"]


def error_descriptions(response) -> list[str]:
    body = response.get_json()
    assert isinstance(body, list) and body, body
    assert all(e["code"] == response.status_code for e in body)
    return [e["description"] for e in body]
