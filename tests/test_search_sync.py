"""The search outbox: inline for one process, a per-host indexer for several, nothing lost;
a web request never rebuilds the ticket index; the documents the rebuild reads."""
from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from portal.extensions import db, search
from portal.search import TicketSearchUnavailable
from search_index import CatalogIndex
from search_index.tickets import TicketIndex, TicketIndexUnavailable
from services import outbox as search_sync
from services import policy
from services.accounts import users as accounts
from services.core import clock
from services.core.clock import utcnow
from services.models import Bureau, CoHandler, Request, RequestItem, SearchOutbox, Service, Ticket, TicketEvent
from services.tickets import actions as tickets
from tests.conftest import make_app
from tests.helpers import login, soup, token_for

NOTICE = "全文检索索引正在重建，请稍后再试；可先按编号或筛选条件查找。"


def submit_api(app, client, username, description="地磅年检，台秤两台", services=("JL-002",), attributes=None):
    headers = {"Authorization": f"Bearer {token_for(app, username)}"}
    body = {"services": list(services), "description": description,
            "attributes": attributes if attributes is not None else {"JL-002": {"instrument": "电子台秤"}}}
    response = client.post("/api/v1/requests", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["tickets"][0]["number"]


def remove_ticket_index(app):
    with app.app_context():
        search.tickets.close()
    shutil.rmtree(app.config["TICKET_INDEX_DIR"], ignore_errors=True)


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
    number = submit_api(app, client, people["a"])
    shutil.rmtree(instance_path / "ticket-index", ignore_errors=True)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "办件索引已建立：1 件" in result.output
    with app.app_context():
        assert number in search.tickets.search("台秤", bureau_ids=None)
        assert search.position.tickets_covered_before() is not None


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


# --------------------------------------------------------------------------- no rebuild in a request
def test_indexer_mode_request_never_rebuilds_and_says_search_is_unavailable(people_in_indexer_mode,
                                                                            monkeypatch):
    app, client, users = people_in_indexer_mode
    number = submit_api(app, client, users["a"])
    remove_ticket_index(app)

    def refuse(*args, **kwargs):
        raise AssertionError("a web request rebuilt the ticket index")

    monkeypatch.setattr(TicketIndex, "rebuild", refuse)
    login(client, users["amr"])
    page = client.get("/staff/queue?q=兰江")
    assert page.status_code == 200  # the queue without the keyword filter, and a notice why
    assert NOTICE in soup(page).select_one("[role=status].notice").get_text()
    assert [a.get_text() for a in soup(page).select(".ticket-row h2 a")] == [number]
    with app.test_request_context():
        with pytest.raises(TicketSearchUnavailable) as caught:
            search.search_tickets(db.session, "兰江", None)
        assert caught.value.status == 503 and caught.value.code == "search_unavailable"
        assert isinstance(caught.value, TicketIndexUnavailable)
        # An exact ticket or request number is still found, from the database, within the scope.
        amr = accounts.get_by_username(db.session, users["amr"])
        assert search.search_tickets(db.session, number.lower(), policy.search_scope(amr)) == [number]
        assert search.search_tickets(db.session, number.split("-")[0], None) == [number]
        assert search.search_tickets(db.session, number, {amr.bureau_id + 1000}) == []
        assert search.search_tickets(db.session, number, set()) == []
    monkeypatch.undo()
    # The indexer rebuilds it (the change included) before it goes on.
    result = app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert search.tickets.search("兰江", bureau_ids=None) == [number]
        assert search.position.read() == search_sync.current_max_id(db.session)


def test_number_lookup_while_unavailable_respects_the_bureaus(people_in_indexer_mode):
    app, client, users = people_in_indexer_mode
    number = submit_api(app, client, users["a"])
    remove_ticket_index(app)
    login(client, users["agri"])
    assert soup(client.get(f"/staff/queue?q={number}")).select(".ticket-row") == []
    client.post("/account/logout", data={"csrf_token": soup(client.get("/staff/queue")).select_one(
        "input[name=csrf_token]")["value"]})
    login(client, users["amr"])
    rows = soup(client.get(f"/staff/queue?q={number}")).select(".ticket-row h2 a")
    assert [a.get_text() for a in rows] == [number]


def test_inline_mode_rebuilds_in_the_background_and_a_search_waits_briefly(app, client, people, monkeypatch):
    number = submit_api(app, client, people["a"])
    remove_ticket_index(app)
    # The wait is what is tested, not how fast a loaded machine rebuilds: give it room (the
    # default of 5 s is meant for a demo database on an idle machine).
    app.config["TICKET_INDEX_REBUILD_WAIT"] = 120
    login(client, people["amr"])
    rows = soup(client.get("/staff/queue?q=兰江")).select(".ticket-row h2 a")
    assert [a.get_text() for a in rows] == [number]  # rebuilt within TICKET_INDEX_REBUILD_WAIT
    assert app.extensions["portal.ticket_rebuild"].wait(10)


def test_inline_mode_does_not_wait_longer_than_configured(app, client, people, monkeypatch):
    import threading

    submit_api(app, client, people["a"])
    remove_ticket_index(app)
    app.config["TICKET_INDEX_REBUILD_WAIT"] = 0.2
    release = threading.Event()
    real = search_sync.iter_ticket_docs

    def slow(session, *args, **kwargs):
        assert release.wait(20)
        yield from real(session, *args, **kwargs)

    monkeypatch.setattr(search_sync, "iter_ticket_docs", slow)
    try:
        login(client, people["amr"])
        page = client.get("/staff/queue?q=兰江")
        assert NOTICE in page.get_data(as_text=True)
    finally:
        release.set()
    assert app.extensions["portal.ticket_rebuild"].wait(20)
    with app.app_context():
        assert search.tickets.search("兰江", bureau_ids=None)


def test_inline_mode_change_on_a_missing_index_is_applied_after_the_background_rebuild(app, client, people):
    remove_ticket_index(app)
    number = submit_api(app, client, people["a"], description="压力表校准")
    assert app.extensions["portal.ticket_rebuild"].wait(20)
    with app.app_context():
        assert search.tickets.search("压力表", bureau_ids=None) == [number]
        assert search.position.read() == search_sync.current_max_id(db.session)


# --------------------------------------------------------------------------- stale index, position
def test_a_stale_index_keeps_the_position_until_a_rebuild_covers_the_changes(people_in_indexer_mode):
    app, client, users = people_in_indexer_mode
    first = submit_api(app, client, users["a"], description="加油机检定")
    assert app.test_cli_runner().invoke(args=["search", "sync"]).exit_code == 0
    meta = app.config["TICKET_INDEX_DIR"] + "/ticket_index.json"
    with open(meta, "w", encoding="utf-8") as fh:
        json.dump({"schema_version": "0"}, fh)  # as after an upgrade that changed the schema
    second = submit_api(app, client, users["a"], description="压力表校准")
    with app.app_context():
        before = search.position.read()
        assert search_sync.current_max_id(db.session) > before
        with pytest.raises(TicketIndexUnavailable):
            search_sync.apply_pending(db.session, search.index, search.tickets, search.position)
        assert search.position.read() == before  # nothing skipped silently
    result = app.test_cli_runner().invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert search.tickets.search("加油机", bureau_ids=None) == [first]
        assert search.tickets.search("压力表", bureau_ids=None) == [second]
        assert search.position.read() == search_sync.current_max_id(db.session)


def test_sync_rebuilds_an_index_with_another_field_format_instead_of_crashing(people_in_indexer_mode):
    from tests.search_tickets.test_maintenance import _write_index_with_other_field_format

    app, client, users = people_in_indexer_mode
    number = submit_api(app, client, users["a"])
    remove_ticket_index(app)
    from pathlib import Path

    _write_index_with_other_field_format(Path(app.config["TICKET_INDEX_DIR"]))
    for _ in range(2):  # and again: no crash on the next start either
        result = app.test_cli_runner().invoke(args=["search", "sync"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert search.tickets.available()
        assert search.tickets.search("兰江", bureau_ids=None) == [number]


def test_rows_a_rebuild_covered_are_not_applied_again(people_in_indexer_mode, monkeypatch):
    app, client, users = people_in_indexer_mode
    old = submit_api(app, client, users["a"], description="重建之前的办件")
    with app.app_context():
        db.session.execute(update(SearchOutbox).values(created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        search.rebuild_tickets(db.session)
        assert search.position.tickets_covered_before() > utcnow() - timedelta(minutes=5)
    new = submit_api(app, client, users["a"], description="重建之后的办件")
    applied = []
    real = TicketIndex.upsert

    def spy(self, docs):
        docs = list(docs)
        applied.extend(d["number"] for d in docs)
        return real(self, docs)

    monkeypatch.setattr(TicketIndex, "upsert", spy)
    with app.app_context():
        report = search_sync.apply_pending(db.session, search.index, search.tickets, search.position)
        assert applied == [new] and report.tickets == 1
        assert search.position.read() == search_sync.current_max_id(db.session)
        assert search.tickets.search("重建之前", bureau_ids=None) == [old]
        assert search.tickets.search("重建之后", bureau_ids=None) == [new]


def test_position_keeps_the_rebuild_mark(tmp_path):
    position = search_sync.Position(tmp_path / "state.json")
    assert position.read() == 0 and position.tickets_covered_before() is None
    moment = utcnow()
    position.mark_tickets_rebuilt(moment)
    position.write(42)
    assert position.read() == 42 and position.tickets_covered_before() == moment
    (tmp_path / "state.json").write_text("[1, 2]", encoding="utf-8")
    assert position.read() == 0 and position.tickets_covered_before() is None


# --------------------------------------------------------------------------- documents
def legacy_ticket_doc(ticket: Ticket) -> dict:
    """The ORM implementation the SELECT-based one replaced (kept as the reference)."""
    request = ticket.request
    text = [request.description]
    for item in ticket.items:
        text += [str(v) if not isinstance(v, list) else " ".join(map(str, v))
                 for v in item.attributes.values()]
    text += [e.message for e in request.events if e.ticket_id == ticket.id and e.public and e.message]
    return {"number": ticket.number, "request_number": request.number, "status": ticket.status,
            "bureau_ids": [ticket.bureau_id, *[c.bureau_id for c in ticket.co_handlers]],
            "enterprise": request.enterprise.name, "uscc": request.enterprise.uscc,
            "services": [i.service.name for i in ticket.items], "text": "\n".join(t for t in text if t)}


def legacy_ticket_docs(session: Session) -> list[dict]:
    query = select(Ticket).options(
        selectinload(Ticket.request).selectinload(Request.enterprise),
        selectinload(Ticket.request).selectinload(Request.events),
        selectinload(Ticket.items).selectinload(RequestItem.service),
        selectinload(Ticket.co_handlers)).order_by(Ticket.id)
    return [legacy_ticket_doc(t) for t in session.scalars(query)]


def make_varied_tickets(app, client, users) -> None:
    """Tickets with what a document is made of: bundles (several tickets, one request), request
    fields of every kind, public and internal timeline entries, co-handlers, empty texts."""
    submit_api(app, client, users["a"], description="两台地磅", services=["JL-001"],
               attributes={"JL-001": {"capacity": 80, "mode": "onsite",
                                      "preferred_date": "2026-12-01T09:30"}})
    submit_api(app, client, users["a"], description="", services=["JL-002"],
               attributes={"JL-002": {"instrument": "电子秤", "items": ["scale", "pump"], "note": "急"}})
    bundle = submit_api(app, client, users["b"], description="新产品上市一次办",
                        services=["JC-001", "RZ-001", "ZC-001"], attributes={})
    plain = submit_api(app, client, users["b"], description="农残检测", services=["JC-002"], attributes={})
    with app.app_context():
        s = db.session
        amr = accounts.get_by_username(s, users["amr"])
        sup = accounts.get_by_username(s, users["sup"])
        tickets.perform(s, amr, bundle, tickets.ActionInput("accept"))
        tickets.perform(s, amr, bundle, tickets.ActionInput("reply", "请携带样品到检验所"))
        tickets.perform(s, amr, bundle, tickets.ActionInput("note", "内部：样品已登记"))
        tickets.perform(s, sup, bundle, tickets.ActionInput("co_handle", "请协助", "agri"))
        tickets.perform(s, sup, plain, tickets.ActionInput("transfer", "应由市场监管局检测", "amr"))
        t = s.scalar(select(Ticket).where(Ticket.number == plain))
        request = t.request
        # Odd but possible rows: field values of other JSON types, a public event without a
        # message, a request-level event, a second co-handler.
        other_service = s.scalar(select(Service).where(Service.code == "ZL-002"))
        s.add(RequestItem(request=request, ticket=t, service=other_service,
                          attributes={"n": 4.5, "flag": True, "none": None, "obj": {"k": [1, "二"]},
                                      "empty": []}))
        s.add(TicketEvent(request=request, ticket=t, kind="reply", message="", public=True))
        s.add(TicketEvent(request=request, ticket=None, kind="note", message="整件请求的公开说明", public=True))
        s.add(TicketEvent(request=request, ticket=t, kind="reply", message="第二条公开答复", public=True))
        t.co_handlers.append(CoHandler(bureau_id=s.scalar(select(Bureau.id).where(Bureau.code == "sti"))))
        s.commit()


def test_ticket_documents_are_those_the_orm_code_made(people_in_indexer_mode):
    app, client, users = people_in_indexer_mode
    make_varied_tickets(app, client, users)
    with app.app_context():
        s = db.session
        expected = legacy_ticket_docs(s)
        assert len(expected) == 5 and len({d["request_number"] for d in expected}) == 4
        assert any(len(d["services"]) > 1 for d in expected)
        assert any(len(d["bureau_ids"]) > 1 for d in expected)
        assert any("请携带样品到检验所" in d["text"] for d in expected)
        assert not any("内部：样品已登记" in d["text"] for d in expected)
        for batch in (1, 2, 3, 1000):  # keyset batches of every size, boundaries inside requests
            assert list(search_sync.iter_ticket_docs(s, batch=batch)) == expected
        numbers = [d["number"] for d in expected]
        assert search_sync.ticket_docs(s, numbers[1::2] + ["LX-NO-SUCH"]) == expected[1::2]
        assert search_sync.ticket_docs(s, []) == []


@pytest.fixture
def people_in_indexer_mode(seeded_copy):
    from tests.helpers import USCC_A, USCC_B, make_enterprise, make_staff

    instance, uri = seeded_copy
    app = make_app(instance, uri, SEARCH_SYNC="indexer")
    users = {"a": make_enterprise(app, USCC_A, "澧县兰江食品有限公司"),
             "b": make_enterprise(app, USCC_B, "澧县澧水纺织有限公司", industry="textile", township="梦溪镇"),
             "amr": make_staff(app, "amr-h"), "agri": make_staff(app, "agri-h", "handler", "agri"),
             "sup": make_staff(app, "sup", "supervisor", None)}
    yield app, app.test_client(), users
    with app.app_context():
        search.tickets.close()
    app.extensions["portal.db"].engine.dispose()


def test_reindex_does_not_move_past_a_change_that_may_commit_after_it(people_in_indexer_mode, monkeypatch):
    """A change whose outbox row was written just before `search reindex` started may commit
    after the rebuild read its ticket: the position stays before that row, and `search sync`
    applies it."""
    app, client, users = people_in_indexer_mode
    number = submit_api(app, client, users["a"])
    with app.app_context():
        old = db.session.scalar(select(func.min(SearchOutbox.id)))
        db.session.execute(update(SearchOutbox).where(SearchOutbox.id == old)
                           .values(created_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
        late = search_sync.current_max_id(db.session)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0
    with app.app_context():
        assert old <= search.position.read() < late  # only what surely committed before the rebuild
        # the late transaction lands after the rebuild read the ticket (its outbox row is `late`)
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        db.session.add(TicketEvent(request_id=ticket.request_id, ticket_id=ticket.id, kind="reply",
                                   message="已安排检定人员周三上门", public=True))
        db.session.commit()
    # a rebuild at county scale takes long: the sync runs well after the grace period
    with clock.frozen(utcnow() + timedelta(minutes=30)):
        result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert search.tickets.search("上门", bureau_ids=None) == [number]
        assert search.position.read() == search_sync.current_max_id(db.session)
