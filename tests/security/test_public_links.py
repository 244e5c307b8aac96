"""Issue 12 item 2: links in mails point at the configured public address, never at the Host
a visitor sent."""
from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.links import normalise_base_url, public_url
from portal.security import InsecureConfiguration
from services.models import OutboxMessage
from tests import databases
from tests.conftest import make_app
from tests.helpers import USCC_A, csrf_from, make_enterprise

PUBLIC = "https://qi.lixian.example"


@pytest.fixture
def public_app(seeded_copy):
    # Behind one trusted proxy, so that even its X-Forwarded-Host/-Proto/-Prefix are tried.
    app = make_app(*seeded_copy, PUBLIC_BASE_URL=PUBLIC + "/", PROXY_COUNT=1)
    yield app
    app.extensions["portal.db"].engine.dispose()


def reset_mail(app) -> str:
    with app.app_context():
        return db.session.scalar(select(OutboxMessage)).body


@pytest.mark.parametrize("how", ["host", "base_url", "forwarded"])
def test_a_hostile_host_does_not_reach_the_reset_mail(public_app, how):
    app = public_app
    make_enterprise(app)
    client = app.test_client()
    hostile = {"host": {"headers": {"Host": "evil.example"}},
               "base_url": {"base_url": "http://evil.example:8080/sub"},
               "forwarded": {"headers": {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http",
                                         "X-Forwarded-Prefix": "/x"}}}[how]
    form = client.get("/account/reset", **hostile)
    response = client.post("/account/reset", data={"login": USCC_A, "csrf_token": csrf_from(form.data)}, **hostile)
    assert response.status_code == 302
    body = reset_mail(app)
    assert "evil" not in body
    links = re.findall(r"\w+://\S+", body)
    assert len(links) == 1 and links[0].startswith(PUBLIC + "/account/reset/"), body

    # The link in the mail is the working reset link.
    path = links[0][len(PUBLIC):]
    page = client.get(path)
    assert page.status_code == 200 and "新密码" in page.get_data(as_text=True)


def test_a_path_prefix_is_kept(seeded_copy):
    app = make_app(*seeded_copy, PUBLIC_BASE_URL="https://www.lixian.example/qi/")
    with app.test_request_context("/", base_url="http://evil.example/other"):
        assert public_url("account.reset", token="T") == "https://www.lixian.example/qi/account/reset/T"
    with app.app_context():  # no request at all (CLI, background work)
        assert public_url("account.profile", _anchor="tokens") == "https://www.lixian.example/qi/account/profile#tokens"
    app.extensions["portal.db"].engine.dispose()


@pytest.mark.parametrize("value,expected", [
    ("https://qi.lixian.example", "https://qi.lixian.example"),
    ("https://QI.Lixian.example:8443/", "https://qi.lixian.example:8443"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    (" https://qi.lixian.example/portal// ", "https://qi.lixian.example/portal"),
])
def test_the_setting_is_normalised(value, expected):
    assert normalise_base_url(value, production=False) == expected


@pytest.mark.parametrize("value,says", [
    ("qi.lixian.example", "http:// 或 https://"),
    ("ftp://qi.lixian.example", "http:// 或 https://"),
    ("https://", "http:// 或 https://"),
    ("https://qi.lixian.example:99999", "http:// 或 https://"),
    ("https://qi.lixian.example/?next=x", "查询参数"),
    ("https://qi.lixian.example/#top", "查询参数"),
    ("https://user:pw@qi.lixian.example", "用户名或密码"),
])
def test_a_malformed_setting_refuses_to_start(seeded_copy, value, says):
    with pytest.raises(InsecureConfiguration) as exc:
        make_app(*seeded_copy, PUBLIC_BASE_URL=value)
    assert "PORTAL_PUBLIC_BASE_URL" in str(exc.value) and says in str(exc.value)


def test_production_refuses_to_start_without_a_public_address(seeded_copy):
    with pytest.raises(InsecureConfiguration) as exc:
        make_app(*seeded_copy, PRODUCTION=True, SECRET_KEY=secrets.token_hex(32), PUBLIC_BASE_URL=None)
    assert "必须设置平台对外地址 PORTAL_PUBLIC_BASE_URL" in str(exc.value)


def test_production_wants_https(seeded_copy):
    with pytest.raises(InsecureConfiguration) as exc:
        make_app(*seeded_copy, PRODUCTION=True, SECRET_KEY=secrets.token_hex(32),
                 PUBLIC_BASE_URL="http://qi.lixian.example")
    assert "https://" in str(exc.value)
    app = make_app(*seeded_copy, PRODUCTION=True, SECRET_KEY=secrets.token_hex(32), PUBLIC_BASE_URL=PUBLIC)
    assert app.config["PUBLIC_BASE_URL"] == PUBLIC
    app.extensions["portal.db"].engine.dispose()


def test_outside_production_the_demo_address_is_the_default(seeded_copy):
    app = make_app(*seeded_copy, PUBLIC_BASE_URL=None)
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    with app.app_context():
        assert public_url("account.reset", token="T") == "http://127.0.0.1:5000/account/reset/T"
    app.extensions["portal.db"].engine.dispose()


def test_the_setting_comes_from_the_environment(seeded_copy, monkeypatch):
    from portal import create_app

    instance, uri = seeded_copy
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PORTAL_SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("PORTAL_PUBLIC_BASE_URL", "https://qi.lixian.example/")
    monkeypatch.setenv("PORTAL_SQLALCHEMY_DATABASE_URI", uri or databases.sqlite_uri(instance))
    app = create_app()
    assert app.config["PUBLIC_BASE_URL"] == PUBLIC
    app.extensions["portal.db"].engine.dispose()
