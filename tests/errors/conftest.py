"""Accounts and a ticket for the error-path tests (the `people` of tests/plugins/people.py)."""
from __future__ import annotations

import pytest

from tests.helpers import token_for
from tests.plugins.people import submit


@pytest.fixture
def enterprise_auth(app, people) -> dict[str, str]:
    """The Authorization header of enterprise A's API token."""
    return {"Authorization": f"Bearer {token_for(app, people['a'])}"}


@pytest.fixture
def staff_auth(app, people) -> dict[str, str]:
    """The Authorization header of the amr handler's API token."""
    return {"Authorization": f"Bearer {token_for(app, people['amr'])}"}


@pytest.fixture
def amr_ticket(app, people) -> str:
    """Enterprise A's JL-002 request: one ticket at amr, just submitted."""
    return submit(app, people["a"], ["JL-002"], {"JL-002": {"instrument": "电子秤"}})


@pytest.fixture
def key_a(app, people) -> str:
    """Enterprise A's API token, as an Open311 api_key."""
    return token_for(app, people["a"])
