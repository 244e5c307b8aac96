"""Real processes for the fault tests: the portal under gunicorn, the indexer, SIGKILL.

Each child runs in its own session (process group) against the test's database (a SQLite file
or the test's PostgreSQL database) and instance folder; `processes` kills every group it
started at the end of the test, whatever happened. Waits poll for a condition with a deadline,
and faults are injected at fixed points (inject/sitecustomize.py), not by timing.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from tests import databases
from tests.conftest import make_app

REPO = Path(__file__).resolve().parents[2]
INJECT = Path(__file__).resolve().parent / "inject"
SECRET = "fault-tests-secret-key-0123456789abcdef0123456789"


def wait_for(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.02,
             details: Callable[[], str] | None = None):
    """Poll *predicate* until it returns something true; fail with *what* (and *details()*, e.g.
    a child's output) after *timeout* s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(every)


def children(pid: int) -> set[int]:
    """Ids of the live (not zombie) child processes of *pid* (from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Processes:
    """Children started in their own process groups; all killed by `close`."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}-{len(self.started)}.log", "wb")
        try:
            proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        proc.log_path = self.logs / f"{name}-{len(self.started)}.log"  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """SIGKILL the whole process group and reap the leader."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel did not deliver SIGKILL
            pass

    def output(self, proc: subprocess.Popen) -> str:
        try:
            text = proc.log_path.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]
            return text[-4000:]
        except OSError:
            return ""

    def close(self) -> None:
        for proc in self.started:
            self.kill(proc)


@pytest.fixture
def processes(tmp_path, portal_env):
    """Killed before the test's database is dropped (it depends on portal_env)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = Processes(logs)
    try:
        yield procs
    finally:
        procs.close()


@pytest.fixture
def portal_env(seeded_copy):
    """(environment for a child process, instance folder, database URI) in indexer mode."""
    from portal.security import LIMIT_DEFAULTS

    instance, uri = seeded_copy
    uri = uri or databases.sqlite_uri(instance)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update({
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SQLALCHEMY_DATABASE_URI": uri,
        "PORTAL_SEARCH_SYNC": "indexer",
        "PORTAL_SECRET_KEY": SECRET,
        "PYTHONPATH": os.pathsep.join([str(INJECT), str(REPO)]),
        "PYTHONUNBUFFERED": "1",
        **{f"PORTAL_{key}": "100000 per minute" for key in LIMIT_DEFAULTS},
    })
    return env, instance, uri


@pytest.fixture
def indexer_app(portal_env):
    """The same instance and database in this process (indexer mode: no index writes here)."""
    _env, instance, uri = portal_env
    app = make_app(instance, uri, SEARCH_SYNC="indexer")
    yield app
    from portal.extensions import search

    with app.app_context():
        search.tickets.close()
    app.extensions["portal.db"].engine.dispose()


def fault_env(env: dict[str, str], folder: Path, point: str, after: int = 0) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {**env, "PORTAL_FAULT_DIR": str(folder), "PORTAL_FAULT_POINT": point,
            "PORTAL_FAULT_AFTER": str(after)}


def paused_pid(folder: Path) -> int | None:
    for name in os.listdir(folder):
        if name.startswith("paused-"):
            return int(name.split("-", 1)[1])
    return None


def http_json(port: int, method: str, path: str, body: dict | None = None, token: str | None = None,
              timeout: float = 20.0) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {})
    finally:
        conn.close()


PYTHON = sys.executable
