"""Open311 discovery, service list and service definitions, in JSON and XML."""
from __future__ import annotations

import pytest

from tests.open311.helpers import BASE, error_descriptions, xml_of


def test_discovery_json(client):
    response = client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["changeset"] and "联席会议办公室" in body["contact"]
    assert "api_key" in body["key_service"]
    [endpoint] = body["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": "http://localhost/open311/v2", "changeset": body["changeset"],
                        "type": "production", "formats": ["application/json", "text/xml"]}


def test_discovery_xml(client):
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert root.findtext("changeset") and root.findtext("contact")
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://localhost/open311/v2"
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == ["application/json", "text/xml"]


def test_service_list_json(client):
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    services = {s["service_code"]: s for s in response.get_json()}
    assert "ZL-002" not in services  # offline: apply at the window only
    assert {"JL-001", "JL-002", "BZ-001", "ZC-002"} <= set(services)
    jl = services["JL-001"]
    assert jl["service_name"] == "汽车衡（地磅）检定"
    assert jl["metadata"] is True and services["BZ-001"]["metadata"] is False
    assert jl["type"] == "batch"
    assert jl["group"] == "计量"
    assert jl["keywords"].split(",")[:2] == ["地磅", "磅秤"]
    assert jl["description"]


def test_service_list_xml(client):
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert "ZL-002" not in services
    assert services["JL-001"].findtext("metadata") == "true"
    assert services["BZ-001"].findtext("metadata") == "false"
    assert services["JL-001"].findtext("group") == "计量"
    assert services["JL-001"].findtext("type") == "batch"


def test_service_definition_json(client):
    body = client.get(f"{BASE}/services/JL-001.json").get_json()
    assert body["service_code"] == "JL-001"
    attrs = {a["code"]: a for a in body["attributes"]}
    assert [a["code"] for a in body["attributes"]] == ["capacity", "mode", "preferred_date"]
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3]
    assert attrs["capacity"]["datatype"] == "number" and attrs["capacity"]["required"] is True
    assert attrs["capacity"]["description"] == "最大秤量（吨）"
    assert attrs["capacity"]["variable"] is True and attrs["capacity"]["datatype_description"]
    assert attrs["mode"]["datatype"] == "singlevaluelist"
    assert attrs["mode"]["values"] == [{"key": "onsite", "name": "现场检定"}, {"key": "lab", "name": "送检"}]
    assert attrs["preferred_date"]["datatype"] == "datetime" and attrs["preferred_date"]["required"] is False


def test_service_definition_xml_with_multivaluelist(client):
    root = xml_of(client.get(f"{BASE}/services/JL-002.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "JL-002"
    attrs = {a.findtext("code"): a for a in root.findall("attributes/attribute")}
    assert set(attrs) == {"instrument", "items", "note"}
    items = attrs["items"]
    assert items.findtext("datatype") == "multivaluelist"
    assert items.findtext("required") == "false" and items.findtext("variable") == "true"
    assert items.findtext("description") == "器具类别"
    assert [(v.findtext("key"), v.findtext("name")) for v in items.findall("values/value")] == [
        ("scale", "电子秤"), ("pump", "加油机")]
    assert attrs["instrument"].findtext("required") == "true"
    assert attrs["note"].findtext("datatype") == "text"


def test_service_without_fields_has_empty_attributes(client):
    body = client.get(f"{BASE}/services/BZ-001.json").get_json()
    assert body == {"service_code": "BZ-001", "attributes": []}


@pytest.mark.parametrize("code", ["NOPE-1", "ZL-002"])
def test_unknown_or_offline_service_is_404_json(client, code):
    response = client.get(f"{BASE}/services/{code}.json")
    assert response.status_code == 404
    [description] = error_descriptions(response)
    assert code in description


def test_unknown_service_is_404_xml(client):
    response = client.get(f"{BASE}/services/NOPE-1.xml")
    assert response.status_code == 404
    root = xml_of(response)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert "NOPE-1" in root.findtext("error/description")


@pytest.mark.parametrize("path", ["discovery.yaml", "services.yaml", "services/JL-001.yaml",
                                  "requests.yaml", "requests/LX1.yaml", "tokens/abc.yaml"])
def test_unknown_format_is_404_json(client, path):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert ".yaml" in error_descriptions(response)[0]


def test_unknown_format_on_post_is_404_json(client, key_a):
    response = client.post(f"{BASE}/requests.yaml", data={"api_key": key_a, "service_code": "JL-001"})
    assert response.status_code == 404
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("path", ["", "services", "nothing.xml", "requests/a/b.json"])
def test_unknown_paths_answer_in_open311_format(client, path):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    if path.endswith(".xml"):
        assert xml_of(response).findtext("error/code") == "404"
    else:
        assert error_descriptions(response)


def test_tokens_are_unknown(client):
    response = client.get(f"{BASE}/tokens/12345.json")
    assert response.status_code == 404
    assert "token" in error_descriptions(response)[0]
    response = client.get(f"{BASE}/tokens/12345.xml")
    assert response.status_code == 404
    assert xml_of(response).findtext("error/code") == "404"
