"""The one-process demo (`./scripts/serve`: `flask run`, a thread per request, SQLite) takes a burst
of 220 simultaneous API submissions with the default pool settings: every one is answered 201,
none is lost, none is stored twice, and no request dies waiting for a connection."""
from __future__ import annotations

import http.client
import json
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal.extensions import db
from services.models import Request, Ticket
from tests import databases
from tests.conftest import make_app
from tests.helpers import free_port, make_enterprise, token_for

BURST = 220

pytestmark = pytest.mark.skipif(databases.using_postgres(), reason="the demo's SQLite pool")


@pytest.fixture
def served(instance_path):
    """The app with the default pool settings behind Werkzeug's threaded server, like `flask run`."""
    app = make_app(instance_path)
    assert app.config["SQLALCHEMY_POOL_SIZE"] is None  # the defaults are what is tested
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, port
    server.shutdown()
    thread.join(10)
    app.extensions["portal.db"].engine.dispose()


def test_a_burst_of_concurrent_submissions(served):
    app, port = served
    token = token_for(app, make_enterprise(app))
    start = threading.Barrier(BURST)
    answers: dict[int, tuple[int, dict]] = {}

    def submit(n: int) -> None:
        body = json.dumps({"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "电子秤"}},
                           "description": f"第 {n} 件", "idempotency_key": f"burst-{n:04d}"})
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        start.wait()
        try:
            connection.request("POST", "/api/v1/requests", body=body,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            answers[n] = (response.status, json.loads(response.read() or b"{}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    statuses = sorted({status for status, _ in answers.values()})
    assert len(answers) == BURST and statuses == [201], [b for s, b in answers.values() if s != 201][:3]
    numbers = {body["number"] for _, body in answers.values()}
    assert len(numbers) == BURST
    with app.app_context():
        stored = db.session.execute(select(Request.number, Request.idempotency_key)).all()
        assert len(stored) == BURST and {n for n, _ in stored} == numbers
        assert {k for _, k in stored} == {f"burst-{n:04d}" for n in range(BURST)}
        assert db.session.scalar(select(func.count(Ticket.id))) == BURST
