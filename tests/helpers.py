"""Helpers for tests that need accounts, logins and forms with CSRF tokens."""
from __future__ import annotations

import socket

from bs4 import BeautifulSoup

from portal.extensions import db
from services.accounts import users as accounts

PASSWORD = "passw0rd-ok"
USCC_A = "91350100M000100Y43"
USCC_B = "91110000802100433B"
USCC_C = "91440300708461136T"


def profile(uscc: str = USCC_A, company: str = "澧县兰江食品有限公司", **overrides) -> accounts.EnterpriseProfile:
    data = dict(company=company, uscc=uscc, contact_name="李华", mobile="13907361234",
                email="lihua@example.com", township="澧阳街道", industry="food", size="small")
    data.update(overrides)
    return accounts.EnterpriseProfile(**data)


def make_enterprise(app, uscc: str = USCC_A, company: str = "澧县兰江食品有限公司", **overrides) -> str:
    """Register an enterprise; returns its login (the USCC)."""
    with app.app_context():
        return accounts.register_enterprise(db.session, profile(uscc, company, **overrides), PASSWORD).username


def make_staff(app, username: str, role: str = "handler", bureau: str | None = "amr") -> str:
    with app.app_context():
        return accounts.create_user(db.session, username, role, PASSWORD, bureau=bureau,
                                    email=f"{username}@example.com").username


def token_for(app, username: str) -> str:
    with app.app_context():
        return accounts.issue_token(db.session, accounts.get_by_username(db.session, username))


def csrf_from(html: bytes | str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    field = soup.select_one("input[name=csrf_token]")
    assert field is not None, "page has no CSRF token"
    return field["value"]


def csrf(client, url: str = "/account/login") -> str:
    return csrf_from(client.get(url).data)


def login(client, username: str, password: str = PASSWORD):
    response = client.post("/account/login", data={"login": username, "password": password,
                                                   "csrf_token": csrf(client)})
    assert response.status_code == 302, response.data.decode()[:500]
    return response


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.data, "html.parser")


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (the socket is closed again at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
