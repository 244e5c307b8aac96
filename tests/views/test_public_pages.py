"""Public pages, read as a person would: parsed HTML, not grepped bytes."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return BeautifulSoup(response.data, "html.parser")


def texts(soup, selector):
    return [el.get_text(" ", strip=True) for el in soup.select(selector)]


def test_home_has_search_categories_popular_and_counts(client):
    soup = page(client, "/")
    assert soup.html["lang"] == "zh-CN"
    form = soup.select_one("form[role=search]")
    assert form["action"] == "/search" and form.select_one("input[name=q]")
    assert soup.select_one("label[for=q]")
    tiles = soup.select(".category-tile")
    assert len(tiles) == 7
    assert [t.select_one(".cat-name").get_text() for t in tiles] == [
        "计量", "标准化", "检验检测", "认证认可", "质量管理", "品牌培育", "知识产权"]
    assert "2 项服务" in tiles[0].get_text()
    popular = texts(soup, "#popular-title ~ .card-list .service-name")
    assert "汽车衡（地磅）检定" in popular and "商标注册便利化服务" in popular
    stats = texts(soup, ".stats li")
    assert stats[0].startswith("11")
    assert soup.find("main") and soup.find("header") and soup.find("footer")


def test_category_page_lists_its_services(client):
    soup = page(client, "/categories/metrology")
    assert soup.h1.get_text(strip=True).endswith("计量")
    names = texts(soup, ".service-name")
    assert names == ["汽车衡（地磅）检定", "强制检定计量器具检定"]
    assert soup.select_one('.sidebar a[aria-current="page"]').get_text(" ", strip=True).startswith("计量")


def test_service_guide_shows_every_guide_field(client):
    soup = page(client, "/services/JL-001")
    assert soup.h1.get_text() == "汽车衡（地磅）检定"
    facts = dict(zip(texts(soup, ".key-facts dt"), texts(soup, ".key-facts dd")))
    assert facts["承诺时限"] == "10 个工作日"
    assert facts["法定时限"] == "20 个工作日"
    assert facts["收费标准"] == "不收费"
    assert facts["责任单位"] == "澧县市场监督管理局"
    checklist = soup.select(".checklist li")
    assert [li.label.get_text() for li in checklist] == ["申请书", "营业执照副本复印件"]
    assert all(li.input["id"] == li.label["for"] for li in checklist)
    assert texts(soup, ".steps li") == ["网上提交申请", "受理审查", "办理", "办结"]
    assert "《中华人民共和国计量法》" in soup.select_one("#basis-title").parent.get_text()
    contact = soup.select_one("#where-title").parent
    assert contact.select_one('a[href^="tel:"]').get_text() == "0736-3200001"
    apply_box = soup.select_one("#apply")
    assert "最大秤量（吨）（必填）" in apply_box.get_text()
    assert soup.select_one(".breadcrumbs a[href='/categories/metrology']")


def test_offline_service_says_to_come_to_the_window(client):
    soup = page(client, "/services/ZL-002")
    assert "窗口办理" in soup.select_one(".key-facts").get_text()


def test_bureau_directory_and_page(client):
    soup = page(client, "/bureaus")
    names = texts(soup, ".bureau-card h3")
    assert names[0] == "质量强县工作联席会议办公室"  # the joint office comes first
    assert "澧县市场监督管理局" in names
    soup = page(client, "/bureaus/amr")
    assert soup.h1.get_text() == "澧县市场监督管理局"
    assert "汽车衡（地磅）检定" in texts(soup, ".service-name")
    assert "0736-3200001" in soup.select_one(".contact-list").get_text()


@pytest.mark.parametrize("url", ["/services/NOPE-1", "/categories/weather", "/bureaus/nasa", "/no/such/page",
                                 "/services/%3Cscript%3E"])
def test_unknown_pages_give_a_real_404_page(client, url):
    soup = page(client, url, 404)
    assert soup.h1.get_text() == "页面不存在"
    assert soup.select_one("form[role=search]")
    assert "<script>" not in str(soup.select_one("main"))


def test_search_finds_and_highlights(client):
    soup = page(client, "/search?q=地磅")
    names = soup.select(".service-name")
    assert names[0].get_text() == "汽车衡（地磅）检定"
    assert names[0].find("mark").get_text() == "地磅"
    assert "找到" in soup.select_one(".result-count").get_text()


def test_natural_language_and_pinyin_search(client):
    assert page(client, "/search?q=我们厂的地磅需要年检").select(".service-name")[0].get_text() == "汽车衡（地磅）检定"
    assert page(client, "/search?q=shangbiao").select(".service-name")[0].get_text() == "商标注册便利化服务"


def test_search_facets_filter_and_count(client):
    soup = page(client, "/search")
    facet_links = {a.get_text(" ", strip=True): a["href"] for a in soup.select(".facets a")}
    assert "计量 2" in facet_links
    soup = page(client, facet_links["计量 2"])
    assert len(soup.select(".service-card")) == 2
    soup = page(client, "/search?online=false")
    assert texts(soup, ".service-name") == ["质量管理体系导入辅导"]


def test_no_results_page_helps(client):
    soup = page(client, "/search?q=火箭发射许可证")
    assert soup.select_one(".no-results h2").get_text() == "没有找到匹配的服务"
    assert soup.select(".no-results .suggestions a") or soup.select(".no-results .tips li")


@pytest.mark.parametrize("q", ["", " ", "x" * 1500, "地" * 1200, 'AND OR NOT * ? " ( ) [ ] { } : ~ ^ \\',
                               "name:地磅", "ＡＢＣ１２３ 地磅 abc", "<script>alert(1)</script>", "\x00\x01"])
def test_hostile_searches_never_fail(client, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.data


@pytest.mark.parametrize("qs", ["page=abc", "page=-1", "page=999999999", "online=maybe", "category=weather",
                                "bureau=nasa", "per_page=5000"])
def test_bad_search_parameters_are_ignored_with_a_note(client, qs):
    soup = page(client, "/search?q=检定&" + qs)
    assert soup.select_one(".result-count")


def test_page_beyond_the_last(client):
    soup = page(client, "/search?page=50")
    assert "没有这一页" in soup.get_text()


def test_language_switch_to_english_and_back(client):
    response = client.get("/lang/en?next=/services/JL-001")
    assert response.status_code == 302 and response.headers["Location"].endswith("/services/JL-001")
    soup = page(client, "/services/JL-001")
    assert soup.html["lang"] == "en"
    assert "Promised time limit" in soup.select_one(".key-facts").get_text()
    assert soup.h1.get_text() == "汽车衡（地磅）检定"  # catalog content stays in Chinese
    client.get("/lang/zh")
    assert page(client, "/").html["lang"] == "zh-CN"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_script_in_catalog_text_is_escaped(app, client, runner, tmp_path):
    from tests.catalog.test_import import fixture_doc, write_json

    doc = fixture_doc()
    doc["services"][0]["name"] = "<script>alert('x')</script>地磅检定"
    doc["services"][0]["summary"] = "<img src=x onerror=alert(1)>"
    assert runner.invoke(args=["catalog", "import", str(write_json(tmp_path / "c.json", doc))]).exit_code == 0
    for url in ("/services/JL-001", "/search?q=地磅", "/categories/metrology", "/"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;" in body or url == "/", url


def test_chinese_catalog_text_is_marked_on_english_pages(client):
    client.get("/lang/en")
    soup = page(client, "/services/JL-001")
    assert soup.html["lang"] == "en"
    assert soup.h1["lang"] == "zh-CN" and soup.select_one(".steps")["lang"] == "zh-CN"
    client.get("/lang/zh")
    assert not page(client, "/services/JL-001").h1.get("lang")


def test_working_days_are_counted_in_english_and_chinese(app, client):
    from portal.extensions import db
    from services.models import Service

    with app.app_context():
        service = db.session.query(Service).filter_by(code="JL-001").one()
        service.time_limit_days, service.statutory_limit_days = 1, 20
        db.session.commit()
    facts = page(client, "/services/JL-001").select_one(".key-facts").get_text(" ", strip=True)
    assert "1 个工作日" in facts and "20 个工作日" in facts
    client.get("/lang/en")
    facts = page(client, "/services/JL-001").select_one(".key-facts").get_text(" ", strip=True)
    assert "1 working day " in facts + " " and "1 working days" not in facts and "20 working days" in facts
