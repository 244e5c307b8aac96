"""Fixtures for the search_index tests: the fixture catalog indexed once per
session, copied for tests that change the index."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from search_index import CatalogIndex

from .fixtures import SERVICES


@pytest.fixture
def docs() -> list[dict[str, Any]]:
    """A private copy of the fixture catalog (tests may modify it)."""
    return copy.deepcopy(SERVICES)


@pytest.fixture
def provider(docs: list[dict[str, Any]]) -> Callable[[], Iterator[dict[str, Any]]]:
    """A docs provider over ``docs`` that counts how often it is called."""

    def provide() -> Iterator[dict[str, Any]]:
        provide.calls += 1  # type: ignore[attr-defined]
        return iter(copy.deepcopy(docs))

    provide.calls = 0  # type: ignore[attr-defined]
    return provide


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index directory holding the fixture catalog (built once)."""
    path = tmp_path_factory.mktemp("search") / "index"
    CatalogIndex(path).rebuild(copy.deepcopy(SERVICES))
    return path


@pytest.fixture(scope="session")
def ro_index(built_dir: Path) -> CatalogIndex:
    """A shared index for read-only tests (do not write to it)."""
    return CatalogIndex(built_dir)


@pytest.fixture
def recovering_index(built_dir: Path, tmp_path: Path, provider: Callable[[], Any]) -> CatalogIndex:
    """A private, writable copy of the fixture index, with a provider."""
    path = tmp_path / "index"
    shutil.copytree(built_dir, path)
    return CatalogIndex(path, docs_provider=provider)


@pytest.fixture
def index(recovering_index: CatalogIndex, provider: Any) -> Iterator[CatalogIndex]:
    """Like ``recovering_index``, for tests that must never need the
    provider: a silent rebuild would hide a bug behind fresh data."""
    yield recovering_index
    assert provider.calls == 0, "the index was rebuilt from the provider unexpectedly"
