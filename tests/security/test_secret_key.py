"""Issue 12 item 4: no publicly known key signs sessions; production refuses guessable keys."""
from __future__ import annotations

import os
import secrets
import stat
import threading
from types import SimpleNamespace

import pytest
from flask import Flask

from portal.config import DEFAULT_SECRET_KEY
from portal.security import SECRET_KEY_FILE, InsecureConfiguration
from tests.conftest import make_app
from tests.helpers import login, make_staff

PUBLIC = "https://qi.lixian.example"


@pytest.fixture
def keyless(seeded_copy, monkeypatch):
    """Make apps on the seeded instance folder the way a demo starts them: no key configured."""
    instance, uri = seeded_copy
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    apps = []

    def factory(**extra):
        app = make_app(instance, uri, **{"SECRET_KEY": None, **extra})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["portal.db"].engine.dispose()


def resigned(app: Flask, cookie: str, key: str) -> str:
    """The same session content signed with another key, as an attacker who knows that key would."""
    payload = app.session_interface.get_signing_serializer(app).loads(cookie)
    forger = Flask("forger")
    forger.secret_key = key
    return forger.session_interface.get_signing_serializer(forger).dumps(payload)


def test_a_session_signed_with_the_default_key_does_not_open_the_admin_pages(keyless):
    app = keyless()
    assert app.config["SECRET_KEY"] != DEFAULT_SECRET_KEY
    make_staff(app, "adm", "admin", None)
    admin = app.test_client()
    login(admin, "adm")
    cookie = admin.get_cookie("session").value

    forged = app.test_client()
    forged.set_cookie("session", resigned(app, cookie, DEFAULT_SECRET_KEY))
    response = forged.get("/admin/users")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]

    # The same content under the app's real key is a working admin session: only the key differs.
    genuine = app.test_client()
    genuine.set_cookie("session", resigned(app, cookie, app.config["SECRET_KEY"]))
    assert genuine.get("/admin/users").status_code == 200


def test_the_generated_key_is_private_and_kept_across_restarts(keyless, seeded_copy):
    instance, _uri = seeded_copy
    first = keyless()
    path = instance / SECRET_KEY_FILE
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 64
    second = keyless()
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"] == path.read_text().strip()

    # A login made before the restart still holds after it.
    make_staff(first, "adm", "admin", None)
    client = first.test_client()
    login(client, "adm")
    again = second.test_client()
    again.set_cookie("session", client.get_cookie("session").value)
    assert again.get("/admin/users").status_code == 200
    assert not [name for name in os.listdir(instance) if name.endswith(".tmp")]


def test_workers_starting_together_agree_on_one_key(tmp_path):
    from portal.security import _instance_key

    keys: list[str] = []
    barrier = threading.Barrier(8)
    worker = SimpleNamespace(instance_path=str(tmp_path / "instance"))

    def start():
        barrier.wait()
        keys.append(_instance_key(worker))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert os.listdir(tmp_path / "instance") == [SECRET_KEY_FILE]


def test_a_configured_key_is_used_and_nothing_is_generated(keyless, seeded_copy):
    instance, _uri = seeded_copy
    key = secrets.token_hex(32)
    app = keyless(SECRET_KEY=key, TESTING=False)
    assert app.config["SECRET_KEY"] == key
    assert not (instance / SECRET_KEY_FILE).exists()


@pytest.mark.parametrize("key", [DEFAULT_SECRET_KEY, "change-me"])
def test_a_publicly_known_key_is_refused_outside_production_too(keyless, key):
    with pytest.raises(InsecureConfiguration) as exc:
        keyless(SECRET_KEY=key, TESTING=False)
    assert "公开的示例值" in str(exc.value) and "secret_key" in str(exc.value)


def test_a_truncated_key_file_is_refused_with_a_way_out(keyless, seeded_copy):
    instance, _uri = seeded_copy
    (instance / SECRET_KEY_FILE).write_text("abc\n")
    with pytest.raises(InsecureConfiguration) as exc:
        keyless()
    assert "请删除它" in str(exc.value)


@pytest.mark.parametrize("key", ["a" * 32, "x" * 40, "ab" * 32, "0123456789abcdef" * 4,
                                 "abcdefghij" * 4, "my-portal-key-2026"])
def test_production_refuses_a_key_with_little_randomness(seeded_copy, key):
    with pytest.raises(InsecureConfiguration) as exc:
        make_app(*seeded_copy, PRODUCTION=True, SECRET_KEY=key, PUBLIC_BASE_URL=PUBLIC)
    assert "PORTAL_SECRET_KEY" in str(exc.value) and "secrets.token_hex(32)" in str(exc.value)


@pytest.mark.parametrize("key", [secrets.token_hex(32), secrets.token_hex(16), secrets.token_urlsafe(32)])
def test_production_accepts_a_random_key(seeded_copy, key):
    app = make_app(*seeded_copy, PRODUCTION=True, SECRET_KEY=key, PUBLIC_BASE_URL=PUBLIC)
    assert app.config["SECRET_KEY"] == key
    app.extensions["portal.db"].engine.dispose()


def test_production_does_not_generate_a_key(keyless, seeded_copy):
    instance, _uri = seeded_copy
    with pytest.raises(InsecureConfiguration):
        keyless(PRODUCTION=True, PUBLIC_BASE_URL=PUBLIC)
    assert not (instance / SECRET_KEY_FILE).exists()
