"""Every error under /open311/ is a GeoReport v2 error list, never a page: JSON, or XML when the
URL ends in .xml; an invalid api_key is 403 as the spec says."""
from __future__ import annotations

import pytest

from tests.open311.helpers import BASE, JL001, xml_of


def descriptions(response, fmt: str) -> list[str]:
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors"
        assert {e.findtext("code") for e in root.findall("error")} == {str(response.status_code)}
        return [e.findtext("description") for e in root.findall("error")]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, list) and body and {e["code"] for e in body} == {response.status_code}
    return [e["description"] for e in body]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_wrong_method_is_405_in_the_urls_format(client, fmt):
    for method, path in (("post", "discovery"), ("delete", "requests"), ("put", "services/JL-001")):
        response = getattr(client, method)(f"{BASE}/{path}.{fmt}")
        assert response.status_code == 405, path
        assert "GET" in response.headers["Allow"]
        assert descriptions(response, fmt)[0] == "不支持这种访问方式。"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_path_is_404_in_the_urls_format(client, method, fmt):
    response = getattr(client, method)(f"{BASE}/nothing/here.{fmt}")
    assert response.status_code == 404
    assert "discovery.json" in descriptions(response, fmt)[0]


@pytest.mark.parametrize("path", ["/open311/v2/", "/open311/v2", "/open311/", "/open311/v3/discovery.xml"])
def test_paths_around_the_facade_are_open311_errors_too(client, path):
    response = client.get(path)
    assert response.status_code == 404
    descriptions(response, "xml" if path.endswith(".xml") else "json")


def test_unknown_extension_is_json(client):
    response = client.get(f"{BASE}/services.html")
    assert response.status_code == 404
    descriptions(response, "json")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_body_too_large_is_413(app, client, fmt):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(f"{BASE}/requests.{fmt}", data={**JL001, "api_key": "x", "description": "长" * 2000})
    assert response.status_code == 413
    descriptions(response, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_parameters_and_refusals_are_400(client, key_a, fmt):
    response = client.get(f"{BASE}/requests.{fmt}", query_string={"api_key": key_a, "status": "lost"})
    assert response.status_code == 400
    assert "status" in descriptions(response, fmt)[0]
    response = client.post(f"{BASE}/requests.{fmt}", data={**JL001, "api_key": key_a, "attribute[capacity]": "x"})
    assert response.status_code == 400
    assert any(d.startswith("attribute[capacity]") for d in descriptions(response, fmt))


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", [None, "", "lxq_not-a-real-token", "x" * 300])
def test_invalid_api_key_is_403(client, fmt, key):
    query = {} if key is None else {"api_key": key}
    for response in (client.get(f"{BASE}/requests.{fmt}", query_string=query),
                     client.post(f"{BASE}/requests.{fmt}", data={**JL001, **query})):
        assert response.status_code == 403
        assert "WWW-Authenticate" not in response.headers
        assert "api_key" in descriptions(response, fmt)[0]


def test_open311_errors_in_english(client):
    response = client.post(f"{BASE}/discovery.xml", headers={"Accept-Language": "en"})
    assert descriptions(response, "xml") == ["This kind of request is not supported here."]
    response = client.get(f"{BASE}/requests.json", query_string={"api_key": "wrong"}, headers={"Accept-Language": "en"})
    assert descriptions(response, "json") == ["api_key is invalid or revoked, or its account is deactivated"]
