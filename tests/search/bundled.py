"""The bundled county catalog (services/data/catalog.json) for the search tests of summaries,
no-results help and 我有需求: as an index (no app) and as a seeded app on a private copy.

Import the fixture functions into a test module to use the fixtures `bundled_index` and
`bundled_app` (`from .bundled import bundled_index_fixture`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from search_index import CatalogIndex

CATALOG = Path(__file__).resolve().parents[2] / "services" / "data" / "catalog.json"


def bundled_docs() -> list[dict[str, Any]]:
    """The catalog's services as search documents (as services.catalog.documents makes them)."""
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    bureaus = {b["code"]: b for b in data["bureaus"]}
    docs = []
    for s in data["services"]:
        if s.get("published", True) is False:
            continue
        b = bureaus[s["bureau"]]
        docs.append({**s, "bureau_name": f"{b['name']} {b['short_name']}", "category_name": ""})
    return docs


def by_name(name: str) -> dict[str, Any]:
    return next(d for d in bundled_docs() if d["name"] == name)


@pytest.fixture(name="bundled_index", scope="session")
def bundled_index_fixture(tmp_path_factory) -> CatalogIndex:
    """The bundled catalog indexed once (read-only)."""
    index = CatalogIndex(tmp_path_factory.mktemp("bundled-search") / "index")
    index.rebuild(bundled_docs())
    return index


@pytest.fixture(name="bundled_app")
def bundled_app_fixture(tmp_path, bundled_template):
    """An app on a private copy of the seeded bundled catalog (tests/conftest.py)."""
    from tests import databases
    from tests.conftest import make_app

    instance, uri, name = bundled_template.copy(tmp_path / "instance")
    app = make_app(instance, uri)
    yield app
    app.extensions["portal.db"].engine.dispose()
    if name:
        databases.drop(name)
