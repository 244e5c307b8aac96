"""A submitted request per bureau, with the `people` of tests/plugins/people.py."""
from __future__ import annotations

import pytest

from portal.extensions import db
from services.accounts import users as accounts
from tests.plugins.people import submit


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
