"""`init` and `search reindex` on fresh and existing instances."""
from __future__ import annotations

import shutil

from sqlalchemy import func, select

from portal.extensions import db, search
from services.catalog.validation import CATEGORY_CODES
from services.models import Bureau, Category, Service
from tests.conftest import make_app


def test_init_on_a_fresh_instance_loads_the_bundled_catalog_and_is_idempotent(fresh_database):
    app = make_app(*fresh_database)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init", "--demo"])
    assert first.exit_code == 0, first.output
    assert "服务目录索引已建立" in first.output
    with app.app_context():
        services = db.session.scalar(select(func.count(Service.id)))
        assert services >= 60
        assert {c.code for c in db.session.scalars(select(Category))} == set(CATEGORY_CODES)
        assert db.session.scalar(select(Bureau).where(Bureau.code == "joint-office")).joint_office
        assert search.index.doc_count() == services
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert "新增 0 项" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Service.id))) == services
        db.engine.dispose()


def test_reindex_rebuilds_a_deleted_index(app, runner, instance_path):
    shutil.rmtree(instance_path / "index")
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "11 项服务" in result.output
    with app.app_context():
        assert search.index.doc_count() == 11
