"""Fixtures for the TicketIndex tests: a small index per test, in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search_index.tickets import TicketIndex

from .fixtures import tickets


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "ticket-index"


@pytest.fixture
def index(index_dir: Path) -> Iterator[TicketIndex]:
    idx = TicketIndex(index_dir)
    idx.rebuild(tickets())
    yield idx
    idx.close()
