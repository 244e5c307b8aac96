"""The search outbox: inline for one process, a per-host indexer for several, nothing lost."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db, search
from search_index import CatalogIndex
from search_index.tickets import TicketIndex
from services import search_sync
from services.models import SearchOutbox
from tests.conftest import make_app
from tests.helpers import login, soup, token_for
from tests.requests.conftest import people  # noqa: F401  (fixture)


def submit_api(app, client, username, description="地磅年检，台秤两台"):
    headers = {"Authorization": f"Bearer {token_for(app, username)}"}
    body = {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "电子台秤"}}, "description": description}
    response = client.post("/api/v1/requests", json=body, headers=headers)
    assert response.status_code == 201
    return response.get_json()["tickets"][0]["number"]


def test_inline_mode_makes_a_new_ticket_searchable_at_once(app, client, people):
    number = submit_api(app, client, people["a"])
    with app.app_context():
        assert number in search.tickets.search("兰江", bureau_ids=None)
        assert number in search.tickets.search(number, bureau_ids=None)


def test_indexer_mode_web_never_writes_and_sync_catches_up(seeded_copy, people_in_indexer_mode, monkeypatch):
    app, client, users = people_in_indexer_mode

    def refuse(*args, **kwargs):
        raise AssertionError("a web worker opened an index writer")

    monkeypatch.setattr(CatalogIndex, "upsert", refuse)
    monkeypatch.setattr(CatalogIndex, "delete", refuse)
    monkeypatch.setattr(TicketIndex, "upsert", refuse)
    number = submit_api(app, client, users["a"])
    monkeypatch.undo()
    with app.app_context():
        assert number not in search.tickets.search("兰江", bureau_ids=None)
        assert db.session.scalar(select(func.count(SearchOutbox.id))) >= 1
    result = app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert number in search.tickets.search("兰江", bureau_ids=None)


def test_a_killed_indexer_loses_nothing(seeded_copy, people_in_indexer_mode, monkeypatch):
    app, client, users = people_in_indexer_mode
    number = submit_api(app, client, users["a"])

    def killed(self, last_id):
        raise KeyboardInterrupt("SIGKILL stand-in: died before recording its position")

    monkeypatch.setattr(search_sync.Position, "write", killed)
    with pytest.raises(KeyboardInterrupt):
        with app.app_context():
            search_sync.apply_pending(db.session, search.index, search.tickets, search.position)
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert number in search.tickets.search("兰江", bureau_ids=None)
        assert search.position.read() == search_sync.current_max_id(db.session)


def test_reindex_rebuilds_tickets_from_the_database(app, client, people, instance_path):
    import shutil

    number = submit_api(app, client, people["a"])
    shutil.rmtree(instance_path / "ticket-index", ignore_errors=True)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "办件索引已建立：1 件" in result.output
    with app.app_context():
        assert number in search.tickets.search("台秤", bureau_ids=None)


def test_staff_search_only_finds_what_they_may_see(app, client, people):
    number = submit_api(app, client, people["a"])
    login(client, people["agri"])
    rows = soup(client.get(f"/staff/queue?q={number}")).select(".ticket-row")
    assert rows == []
    client.post("/account/logout", data={"csrf_token": soup(client.get("/staff/queue")).select_one(
        "input[name=csrf_token]")["value"]})
    login(client, people["amr"])
    rows = soup(client.get("/staff/queue?q=兰江")).select(".ticket-row h2 a")
    assert [a.get_text() for a in rows] == [number]


@pytest.fixture
def people_in_indexer_mode(seeded_copy):
    from tests.helpers import USCC_A, make_enterprise, make_staff

    instance, uri = seeded_copy
    app = make_app(instance, uri, SEARCH_SYNC="indexer")
    users = {"a": make_enterprise(app, USCC_A, "澧县兰江食品有限公司"), "amr": make_staff(app, "amr-h")}
    yield app, app.test_client(), users
    app.extensions["portal.db"].engine.dispose()
