"""A submitted request per bureau, with the people of tests/requests/conftest.py."""
from __future__ import annotations

import pytest

from portal.extensions import db
from services.accounts import users as accounts
from services.requests import submission as reqsvc
from tests.requests.conftest import people  # noqa: F401  (fixture)


def submit(app, username: str, services: list[str], attributes: dict | None = None) -> str:
    with app.app_context():
        user = accounts.get_by_username(db.session, username)
        req, _ = reqsvc.submit(db.session, user, reqsvc.Submission(services=services, attributes=attributes or {}),
                               app.config["UPLOAD_DIR"])
        return req.tickets[0].number


@pytest.fixture
def amr_ticket(app, people):
    return submit(app, people["a"], ["JL-002"], {"JL-002": {"instrument": "电子秤"}})


@pytest.fixture
def agri_ticket(app, people):
    """RZ-001 绿色食品认证申报: 20 working days promised."""
    return submit(app, people["a"], ["RZ-001"])


@pytest.fixture
def lead(app):
    with app.app_context():
        return accounts.create_user(db.session, "amr-lead", "lead", "passw0rd-ok", bureau="amr",
                                    email="lead@example.com").username
