"""Anonymous catalog pages come from the page cache until the catalog changes."""
from __future__ import annotations

from services.catalog import directory
from tests.catalog.test_import import fixture_doc, write_json
from tests.helpers import login, make_enterprise


def test_cached_until_the_catalog_changes(app, client, runner, tmp_path, monkeypatch):
    first = client.get("/services/JL-001").get_data(as_text=True)

    def no_database(*args, **kwargs):
        raise AssertionError("the page was rendered again")

    monkeypatch.setattr(directory, "get_service", no_database)
    assert client.get("/services/JL-001").get_data(as_text=True) == first
    monkeypatch.undo()
    doc = fixture_doc()
    doc["services"][0]["name"] = "汽车衡（地磅）周期检定"
    assert runner.invoke(args=["catalog", "import", str(write_json(tmp_path / "c.json", doc))]).exit_code == 0
    assert "汽车衡（地磅）周期检定" in client.get("/services/JL-001").get_data(as_text=True)


def test_languages_and_logged_in_users_get_their_own_pages(app, client):
    zh = client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    assert client.get("/").get_data(as_text=True) != zh
    client.get("/lang/zh")
    make_enterprise(app)
    login(client, "91350100M000100Y43")
    assert "澧县兰江食品有限公司" in client.get("/").get_data(as_text=True)  # not the anonymous copy
