"""`flask --app portal search sync --follow` SIGKILLed in the middle of its work, then restarted.

Two places to die, both reached deterministically (inject/sitecustomize.py stops the process
there and the test kills it):

* while applying a batch: inside the ticket index commit, with the documents added and the
  Whoosh write lock held;
* while rebuilding a missing ticket index: in the middle of the document stream, with a
  temporary build directory and the rebuild lock held.

After a restart the index must catch up (every ticket number found by TicketIndex.search, as
many documents as tickets) and open without error: nothing a killed process leaves behind (its
locks, its half-written files) may block or corrupt the next one.
"""
from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from portal.extensions import db
from search_index.tickets import INDEXNAME, TicketIndex
from services import outbox as search_sync
from services.accounts import users as accounts
from services.models import Ticket
from services.requests import submission as reqsvc
from tests.helpers import USCC_A, make_enterprise

from .conftest import PYTHON, fault_env, paused_pid, wait_for

TICKETS = 60
SYNC = [PYTHON, "-m", "flask", "--app", "portal", "search", "sync", "--follow", "--interval", "0.1"]


def submit_many(app, n: int) -> list[str]:
    """n requests (one ticket each), written here: in indexer mode only outbox rows are added."""
    username = make_enterprise(app, USCC_A, "澧县兰江食品有限公司")
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        numbers = []
        for i in range(n):
            req, _ = reqsvc.submit(db.session, user, reqsvc.Submission(
                services=["JL-002"], attributes={"JL-002": {"instrument": "电子台秤"}},
                description=f"第{i}台电子台秤检定"), app.config["UPLOAD_DIR"])
            numbers.append(req.tickets[0].number)
        return numbers


def lock_is_free(index_dir: Path, name: str) -> bool:
    lock = FileStorage(str(index_dir)).lock(f"{INDEXNAME}_{name}")
    if not lock.acquire(blocking=False):
        return False
    lock.release()
    return True


def segment_files_not_in_toc(index_dir: Path) -> set[str]:
    storage = FileStorage(str(index_dir))
    live = {s.segment_id() for s in TOC.read(storage, INDEXNAME).segments}
    pattern = TOC._segment_pattern(INDEXNAME)
    return {name for name in storage.list() if (m := pattern.match(name)) and m.group(1) not in live}


def run_until_caught_up(processes, env, app, target: int) -> None:
    """Start the indexer, wait until its position reaches *target*, stop it with SIGTERM."""
    proc = processes.start("indexer", SYNC, env)
    with app.app_context():
        position = search_sync.Position(Path(app.config["SEARCH_SYNC_STATE"]))
    wait_for(lambda: position.read() >= target or proc.poll() is not None, 30,
             "the restarted indexer to catch up", every=0.05)
    assert proc.poll() is None, processes.output(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0, processes.output(proc)


def check_index_complete(app, numbers: list[str]) -> None:
    index_dir = Path(app.config["TICKET_INDEX_DIR"])
    index = TicketIndex(index_dir)
    try:
        assert index.available(), index.unavailable_reason()
        with app.app_context():
            assert index.doc_count() == db.session.scalar(select(func.count(Ticket.id)))
        missing = [n for n in numbers if n not in index.search(n, bureau_ids=None)]
        assert missing == []
        assert len(index.search("电子台秤", bureau_ids=None, limit=1000)) == len(numbers)
    finally:
        index.close()
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".build-")]
    assert segment_files_not_in_toc(index_dir) == set()
    assert lock_is_free(index_dir, "WRITELOCK") and lock_is_free(index_dir, "REBUILDLOCK")


@pytest.mark.parametrize("where", ["applying", "rebuilding"])
def test_indexer_killed_mid_work_catches_up_after_a_restart(processes, portal_env, indexer_app, tmp_path,
                                                             where):
    env, instance, _uri = portal_env
    app = indexer_app
    index_dir = Path(app.config["TICKET_INDEX_DIR"])
    numbers = submit_many(app, TICKETS)
    with app.app_context():
        target = search_sync.current_max_id(db.session)
        position = search_sync.Position(Path(app.config["SEARCH_SYNC_STATE"]))
        before = position.read()
    assert target > before
    if where == "rebuilding":
        shutil.rmtree(index_dir)  # a new host, or an index lost: the indexer rebuilds it first
        point, after = "search_index.tickets:doc_to_fields", TICKETS // 3
    else:
        point, after = "search_index.tickets:_commit", 0

    faults = tmp_path / "faults"
    crashing = fault_env(env, faults, point, after)
    (faults / "armed").touch()
    proc = processes.start("indexer", SYNC, crashing)
    pid = wait_for(lambda: paused_pid(faults) or proc.poll() is not None, 30,
                   f"the indexer to stop while {where}", every=0.05)
    assert pid == proc.pid, processes.output(proc)
    processes.kill(proc)
    assert proc.returncode == -signal.SIGKILL

    # What the killed indexer left: its position unchanged, its work half done.
    assert position.read() == before
    if where == "rebuilding":
        assert [p for p in index_dir.iterdir() if p.name.startswith(".build-")]
        assert not TicketIndex(index_dir).available()
        assert lock_is_free(index_dir, "REBUILDLOCK")
    else:
        left = TicketIndex(index_dir)
        assert left.available() and left.search(numbers[0], bureau_ids=None) == []  # never committed
        left.close()
        assert (index_dir / f"{INDEXNAME}_WRITELOCK").exists() and lock_is_free(index_dir, "WRITELOCK")

    run_until_caught_up(processes, env, app, target)
    check_index_complete(app, numbers)
    assert position.read() == target
