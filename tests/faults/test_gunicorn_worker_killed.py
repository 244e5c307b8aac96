"""The portal under gunicorn (2 sync workers, indexer mode): a worker SIGKILLed in the middle of
a submission, during a burst of concurrent submissions through the API.

The fault point is inside the submission's transaction (services.outbox.enqueue runs after
the request, its tickets and items were flushed, before the commit): the killed worker leaves a
transaction that never committed. What must hold: every submission answered 2xx is stored
exactly once, a retry with the same idempotency_key gives the same request, no request is
half-written, and the master replaces the worker while the service keeps answering.
"""
from __future__ import annotations

import http.client
import os
import signal
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from portal.extensions import db
from services.models import Request, RequestItem, SearchOutbox, Ticket
from tests.helpers import USCC_A, USCC_B, free_port, make_enterprise, token_for

from .conftest import PYTHON, children, fault_env, http_json, paused_pid, wait_for

SUBMISSIONS = 36
THREADS = 6
ARM_AFTER = 8  # answers before the fault is armed: the worker dies mid-burst


def _no_control_socket() -> list[str]:
    """gunicorn 25+ opens a control socket in ~/.gunicorn by default, shared by every run."""
    from gunicorn import config

    known = {s.name for s in config.KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in known else []


NO_CONTROL_SOCKET = _no_control_socket()


def body(i: int, key: str) -> dict:
    if i % 3 == 0:  # a bundle: two bureaus, two tickets in one transaction
        return {"services": ["JC-001", "RZ-001"], "description": f"新产品检验与认证 {i}", "idempotency_key": key}
    return {"services": ["JL-002"], "attributes": {"JL-002": {"instrument": "电子台秤"}},
            "description": f"台秤检定 {i}", "idempotency_key": key}


def answers(port: int) -> bool:
    try:
        return http_json(port, "GET", "/api/v1/services?per_page=1", timeout=5)[0] == 200
    except (OSError, http.client.HTTPException):
        return False


def test_a_worker_killed_inside_a_submission_loses_or_duplicates_nothing(processes, portal_env, indexer_app,
                                                                         tmp_path):
    env, _instance, _uri = portal_env
    app = indexer_app
    users = [make_enterprise(app, USCC_A, "澧县兰江食品有限公司"),
             make_enterprise(app, USCC_B, "澧县澧水纺织有限公司", industry="textile", township="梦溪镇")]
    tokens = [token_for(app, u) for u in users]
    app.extensions["portal.db"].engine.dispose()

    faults = tmp_path / "faults"
    port = free_port()
    master = processes.start("gunicorn", [
        PYTHON, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
        "--timeout", "30", "--graceful-timeout", "2", *NO_CONTROL_SOCKET, "portal:create_app()",
    ], fault_env(env, faults, "services.outbox:enqueue"))

    def log() -> str:
        return processes.output(master)

    def up() -> bool:  # both workers answer, or the master gave up (then fail at once, with its log)
        return master.poll() is not None or (len(children(master.pid)) == 2 and answers(port))

    wait_for(up, 40, "gunicorn with two workers answering", every=0.1, details=log)
    assert master.poll() is None, log()
    workers_before = children(master.pid)

    plan = [(i, f"fault-{i:04d}", tokens[i % 2]) for i in range(SUBMISSIONS)]

    def submit(i: int, key: str, token: str):
        try:
            status, data = http_json(port, "POST", "/api/v1/requests", body(i, key), token, timeout=30)
            return key, status, data
        except (OSError, http.client.HTTPException) as exc:  # the killed worker's connection
            return key, None, repr(exc)

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(submit, *p) for p in plan]
        wait_for(lambda: sum(f.done() for f in futures) >= ARM_AFTER, 30, "the first answers")
        (faults / "armed").touch()
        victim = wait_for(lambda: paused_pid(faults), 20, "a worker stopped inside a submission", details=log)
        assert victim in workers_before
        os.kill(victim, signal.SIGKILL)
        results = [f.result(timeout=60) for f in futures]

    failed = [key for key, status, _ in results if status is None]
    answered = {key: data for key, status, data in results if status is not None}
    assert len(failed) == 1, results  # only the request the killed worker was handling
    assert {status for _key, status, _ in results if status is not None} == {201}, results
    assert len(answered) == SUBMISSIONS - 1

    # The master replaces the worker; the service keeps answering.
    wait_for(lambda: len(children(master.pid)) == 2 and victim not in children(master.pid), 30,
             "gunicorn to start a new worker", every=0.05, details=log)
    assert master.poll() is None, log()
    wait_for(lambda: answers(port), 30, "the new worker to answer", details=log)

    with app.app_context():
        stored = dict(db.session.execute(select(Request.idempotency_key, Request.number)).all())
    assert stored == {key: data["number"] for key, data in answered.items()}  # the killed one left nothing

    # Retrying every submission: the same request for each answered one, the lost one made now.
    by_key = {key: (i, token) for i, key, token in plan}
    for key, (i, token) in by_key.items():
        status, data = http_json(port, "POST", "/api/v1/requests", body(i, key), token)
        if key in answered:
            assert (status, data["number"]) == (200, answered[key]["number"])
            assert data["tickets"] == answered[key]["tickets"]
        else:
            assert status == 201, data

    with app.app_context():
        s = db.session
        counts = s.execute(select(Request.user_id, Request.idempotency_key, func.count(Request.id))
                           .group_by(Request.user_id, Request.idempotency_key)).all()
        assert len(counts) == SUBMISSIONS and {c for *_k, c in counts} == {1}
        requests = s.scalars(select(Request)).all()
        for r in requests:  # nothing half-written
            assert r.tickets and r.items, r.number
            assert all(item.ticket_id is not None for item in r.items), r.number
            assert all(t.items for t in r.tickets), r.number
            expected = 2 if r.idempotency_key and int(r.idempotency_key.split("-")[1]) % 3 == 0 else 1
            assert len(r.tickets) == expected, r.number
        numbers = set(s.scalars(select(Ticket.number)))
        queued = set(s.scalars(select(SearchOutbox.key).where(SearchOutbox.kind == "ticket")))
        assert numbers <= queued  # each ticket's search outbox row came with it
        assert s.scalar(select(func.count(RequestItem.id)).where(RequestItem.ticket_id.is_(None))) == 0
    app.extensions["portal.db"].engine.dispose()
