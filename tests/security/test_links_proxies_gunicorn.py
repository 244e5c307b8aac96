"""Issue 12 items 2 and 3 against the real thing: the portal under gunicorn with
PORTAL_PRODUCTION=true, configured only through the environment as a deployment is."""
from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.security import LIMIT_DEFAULTS
from services.models import OutboxMessage
from tests import databases
from tests.conftest import make_app
from tests.helpers import USCC_A, csrf_from, free_port, make_enterprise

REPO = Path(__file__).resolve().parents[2]
PUBLIC = "https://qi.lixian.example"
LOOKUPS = int(LIMIT_DEFAULTS["RATELIMIT_LOOKUP"].split()[0])

pytest.importorskip("gunicorn")


class Portal:
    """One gunicorn master with one sync worker, in its own process group."""

    def __init__(self, port: int, proc: subprocess.Popen, log: Path):
        self.port, self.proc, self.log = port, proc, log

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                form: dict[str, str] | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        body = urlencode(form).encode() if form is not None else None
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        conn.close()
        return response

    def form(self, path: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
        """(session cookie, CSRF token) of a form page. The cookie is Secure (production), so it
        is sent back by hand, as a browser behind the HTTPS proxy would."""
        response = self.request("GET", path, headers)
        assert response.status == 200, response.body[:300]
        cookie = next(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []
                      if c.startswith("session="))
        assert "Secure" in response.headers["Set-Cookie"]
        return cookie, csrf_from(response.body)  # type: ignore[attr-defined]

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture
def start_portal(seeded_copy, tmp_path):
    instance, uri = seeded_copy
    uri = uri or databases.sqlite_uri(instance)
    started: list[subprocess.Popen] = []

    def start(**settings: str) -> Portal:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
        env.update({"PORTAL_INSTANCE_PATH": str(instance), "PORTAL_SQLALCHEMY_DATABASE_URI": uri,
                    "PORTAL_PRODUCTION": "true", "PORTAL_SECRET_KEY": secrets.token_hex(32),
                    "PORTAL_PUBLIC_BASE_URL": PUBLIC, "PYTHONUNBUFFERED": "1"})
        env.update({f"PORTAL_{key}": value for key, value in settings.items()})
        port = free_port()
        log = tmp_path / f"gunicorn-{len(started)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                     "--timeout", "30", "portal:create_app()"], cwd=REPO, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        started.append(proc)
        portal = Portal(port, proc, log)
        deadline = time.monotonic() + 40
        while True:
            assert proc.poll() is None, portal.output()
            try:
                if portal.request("GET", "/progress").status == 200:
                    return portal
            except OSError:
                pass
            assert time.monotonic() < deadline, portal.output()
            time.sleep(0.1)

    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def lookups(portal: Portal, forwarded_for) -> list[int]:
    cookie, token = portal.form("/progress")
    return [portal.request("POST", "/progress", {"Cookie": cookie, "X-Forwarded-For": forwarded_for(n)},
                           {"number": "LX-NONE", "query_code": "000000", "csrf_token": token}).status
            for n in range(LOOKUPS + 5)]


def test_behind_one_proxy_the_county_does_not_share_one_limit(start_portal):
    portal = start_portal(PROXY_COUNT="1")
    assert lookups(portal, lambda n: f"198.51.100.{n + 1}") == [404] * (LOOKUPS + 5)
    codes = lookups(portal, lambda n: f"10.9.{n}.1, 192.0.2.7")  # made-up entries before nginx's
    assert codes[:LOOKUPS] == [404] * LOOKUPS and codes[-1] == 429


def test_without_trusted_proxies_forwarded_for_changes_nothing(start_portal):
    portal = start_portal()
    codes = lookups(portal, lambda n: f"198.51.100.{n + 1}")
    assert codes[:LOOKUPS] == [404] * LOOKUPS and codes[LOOKUPS:] == [429] * 5


def test_the_reset_mail_points_at_the_public_address(start_portal, seeded_copy):
    instance, uri = seeded_copy
    app = make_app(instance, uri)
    make_enterprise(app)
    portal = start_portal(PROXY_COUNT="1")
    hostile = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "192.0.2.1"}
    cookie, token = portal.form("/account/reset", hostile)
    response = portal.request("POST", "/account/reset", {**hostile, "Cookie": cookie},
                              {"login": USCC_A, "csrf_token": token})
    assert response.status == 302, portal.output()
    with app.app_context():
        body = db.session.scalar(select(OutboxMessage)).body
    app.extensions["portal.db"].engine.dispose()
    assert "evil" not in body
    links = re.findall(r"\w+://\S+", body)
    assert len(links) == 1 and links[0].startswith(PUBLIC + "/account/reset/"), body


def test_production_without_a_public_address_does_not_start(seeded_copy):
    instance, uri = seeded_copy
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update({"PORTAL_INSTANCE_PATH": str(instance),
                "PORTAL_SQLALCHEMY_DATABASE_URI": uri or databases.sqlite_uri(instance),
                "PORTAL_PRODUCTION": "true", "PORTAL_SECRET_KEY": secrets.token_hex(32)})
    result = subprocess.run([sys.executable, "-c", "from portal import create_app; create_app()"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "PORTAL_PUBLIC_BASE_URL" in result.stderr
