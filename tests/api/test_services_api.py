"""GET /api/v1/services and /api/v1/services/<code> per the contract in shared/DESIGN.md."""
from __future__ import annotations

import pytest


def test_list_without_query_returns_the_whole_catalog(client):
    body = client.get("/api/v1/services").get_json()
    assert body["total"] == 11 and body["page"] == 1 and body["per_page"] == 20
    assert len(body["items"]) == 11
    item = body["items"][0]
    assert set(item) == {"code", "name", "category", "bureau", "summary", "url", "score"}
    assert item["url"].startswith("http://localhost/services/")


def test_search_most_relevant_first(client):
    body = client.get("/api/v1/services", query_string={"q": "我们厂的地磅需要年检"}).get_json()
    assert body["items"][0]["code"] == "JL-001"
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("q,code", [("dibang", "JL-001"), ("sbzc", "ZC-001"), ("绿色食品", "RZ-001"),
                                    ("老字号", "PP-001"), ("秤", "JL-002")])
def test_search_by_words_pinyin_and_initials(client, q, code):
    items = client.get("/api/v1/services", query_string={"q": q}).get_json()["items"]
    assert code in [i["code"] for i in items[:2]], items


def test_filters_and_pagination(client):
    body = client.get("/api/v1/services?category=metrology").get_json()
    assert {i["code"] for i in body["items"]} == {"JL-001", "JL-002"}
    body = client.get("/api/v1/services?bureau=agri").get_json()
    assert {i["bureau"] for i in body["items"]} == {"agri"}
    body = client.get("/api/v1/services?online=false").get_json()
    assert [i["code"] for i in body["items"]] == ["ZL-002"]
    first = client.get("/api/v1/services?per_page=5&page=1").get_json()
    third = client.get("/api/v1/services?per_page=5&page=3").get_json()
    assert len(first["items"]) == 5 and len(third["items"]) == 1 and third["total"] == 11


@pytest.mark.parametrize("qs,field", [("page=0", "page"), ("page=abc", "page"), ("per_page=1000", "per_page"),
                                      ("online=maybe", "online"), ("category=weather", "category"),
                                      ("bureau=nasa", "bureau")])
def test_bad_parameters_give_400_with_structured_error(client, qs, field):
    response = client.get("/api/v1/services?" + qs)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_parameter" and field in error["fields"] and error["message"]


@pytest.mark.parametrize("q", ["x" * 2000, 'AND OR * "( [ :', "ＡＢＣ 地磅"])
def test_hostile_queries_answer_200(client, q):
    response = client.get("/api/v1/services", query_string={"q": q})
    assert response.status_code == 200
    assert isinstance(response.get_json()["items"], list)


def test_detail_has_the_guide_and_request_fields(client):
    body = client.get("/api/v1/services/JL-001").get_json()
    assert body["code"] == "JL-001" and body["category"] == "metrology" and body["bureau"] == "amr"
    for key in ("summary", "conditions", "materials", "process", "legal_basis", "time_limit_days", "fee",
                "contact", "keywords", "online"):
        assert body[key] not in (None, "", []), key
    assert body["time_limit_days"] == 10
    assert [f["datatype"] for f in body["fields"]] == ["number", "singlevaluelist", "datetime"]
    assert body["fields"][1]["values"][0] == {"key": "onsite", "name": "现场检定"}
    assert body["bureau_contact"]["phone"] == "0736-3200001"


def test_unknown_service_is_a_json_404(client):
    response = client.get("/api/v1/services/NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/nothing-here").get_json()["error"]["code"] == "not_found"


def test_api_is_utf8_json(client):
    response = client.get("/api/v1/services/JL-001")
    assert response.mimetype == "application/json"
    assert "汽车衡".encode() in response.data  # not \u escapes
