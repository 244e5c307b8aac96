"""Fixtures for the Open311 facade: accounts with API keys and a handler."""
from __future__ import annotations

import pytest

from tests.helpers import USCC_A, USCC_B, make_enterprise, make_staff, token_for


@pytest.fixture
def key_a(app) -> str:
    return token_for(app, make_enterprise(app, USCC_A, "澧县兰江食品有限公司"))


@pytest.fixture
def key_b(app) -> str:
    return token_for(app, make_enterprise(app, USCC_B, "澧县澧州机械有限公司", contact_name="王强",
                                          mobile="13907365678", email="wq@example.com"))


@pytest.fixture
def staff_key(app) -> str:
    return token_for(app, make_staff(app, "handler-amr", "handler", "amr"))
