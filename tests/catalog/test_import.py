"""`flask --app portal catalog import/export`: upserts, --replace, --dry-run and every kind of bad file."""
from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.extensions import db, search
from services.catalog import records as catalog
from services.models import Service
from tests.conftest import FIXTURE_CATALOG


def fixture_doc() -> dict:
    return json.loads(FIXTURE_CATALOG.read_text(encoding="utf-8"))


def write_json(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def snapshot(app) -> tuple[dict, list[str]]:
    """Everything a failed import must leave alone: the exported catalog and the index hits."""
    with app.app_context():
        exported = catalog.export_catalog(db.session)
        hits = [h.code for h in search.index.search("", per_page=100).hits]
    return exported, sorted(hits)


def run_import(runner, path: Path, *args: str):
    return runner.invoke(args=["catalog", "import", str(path), *args])


# ------------------------------------------------------------------ good imports
def test_import_adds_new_service_and_it_is_searchable_at_once(app, runner, tmp_path):
    doc = fixture_doc()
    new = copy.deepcopy(doc["services"][0])
    new.update(code="JL-099", name="出租车计价器检定", keywords=["计价器", "出租车"], fields=[])
    doc["services"].append(new)
    result = run_import(runner, write_json(tmp_path / "c.json", doc))
    assert result.exit_code == 0, result.output
    assert "新增 1 项" in result.output
    with app.app_context():
        assert db.session.scalar(select(Service).where(Service.code == "JL-099")).name == "出租车计价器检定"
        assert [h.code for h in search.index.search("出租车计价器").hits][0] == "JL-099"
        assert "JL-099" in [h.code for h in search.index.search("chuzuche").hits]


def test_reimporting_same_file_changes_nothing(runner, app):
    result = run_import(runner, FIXTURE_CATALOG)
    assert result.exit_code == 0, result.output
    assert "新增 0 项" in result.output and "更新 0 项" in result.output


def test_upsert_updates_by_code(app, runner, tmp_path):
    doc = fixture_doc()
    doc["services"][0]["name"] = "汽车衡检定（地磅年检）"
    doc["services"][0]["time_limit_days"] = 7
    result = run_import(runner, write_json(tmp_path / "c.json", doc))
    assert result.exit_code == 0, result.output
    assert "更新 1 项" in result.output
    with app.app_context():
        svc = db.session.scalar(select(Service).where(Service.code == "JL-001"))
        assert (svc.name, svc.time_limit_days) == ("汽车衡检定（地磅年检）", 7)


def test_replace_takes_absent_services_off_the_catalog_but_keeps_them(app, runner, tmp_path, client):
    doc = fixture_doc()
    doc["services"] = [s for s in doc["services"] if s["code"] != "ZC-002"]
    result = run_import(runner, write_json(tmp_path / "c.json", doc), "--replace")
    assert result.exit_code == 0, result.output
    assert "下架 1 项" in result.output
    with app.app_context():
        kept = db.session.scalar(select(Service).where(Service.code == "ZC-002"))
        assert kept is not None and kept.removed_at is not None
        assert "ZC-002" not in [h.code for h in search.index.search("专利申请预审").hits]
    assert client.get("/services/ZC-002").status_code == 404
    # Importing it again brings it back.
    assert run_import(runner, FIXTURE_CATALOG).exit_code == 0
    assert client.get("/services/ZC-002").status_code == 200


def test_dry_run_reports_without_writing(app, runner, tmp_path):
    before = snapshot(app)
    doc = fixture_doc()
    doc["services"][0]["name"] = "改名但不写入"
    doc["services"] = doc["services"][:3]
    result = run_import(runner, write_json(tmp_path / "c.json", doc), "--replace", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "试运行" in result.output and "将更新 1 项" in result.output and "将下架 8 项" in result.output
    assert snapshot(app) == before


def test_category_and_bureau_accept_chinese_names(app, runner, tmp_path):
    doc = fixture_doc()
    doc["services"][0]["category"] = "计量"
    doc["services"][0]["bureau"] = "县市场监管局"
    doc["services"][2]["bureau"] = "澧县市场监督管理局"
    result = run_import(runner, write_json(tmp_path / "c.json", doc))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("suffix", [".json", ".csv", ".xlsx"])
def test_export_import_round_trip(app, runner, tmp_path, suffix):
    out = tmp_path / f"catalog{suffix}"
    result = runner.invoke(args=["catalog", "export", str(out)])
    assert result.exit_code == 0, result.output
    before = snapshot(app)
    result = run_import(runner, out)
    assert result.exit_code == 0, result.output
    assert "新增 0 项" in result.output and "更新 0 项" in result.output
    assert snapshot(app) == before


def test_csv_from_spreadsheet_with_bom_and_pipes(app, runner, tmp_path):
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "name", "category", "bureau", "summary", "conditions", "materials", "process",
                    "legal_basis", "time_limit_days", "fee", "contact", "keywords", "online", "fields"])
        w.writerow(["JL-050", "加油机检定", "计量", "amr", "加油机强制检定。", "加油站经营者。",
                    "申请书|营业执照副本复印件", "申请|检定|出证", "《中华人民共和国计量法》", "10", "不收费",
                    "0736-3200001", "加油机|油枪", "是",
                    json.dumps([{"code": "guns", "label": "油枪数量", "datatype": "number", "required": True}],
                               ensure_ascii=False)])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        svc = db.session.scalar(select(Service).where(Service.code == "JL-050"))
        assert svc.materials == ["申请书", "营业执照副本复印件"]
        assert svc.online is True and svc.fields[0].datatype == "number"


# ------------------------------------------------------------------ bad imports
def _bad_doc(mutate) -> dict:
    doc = fixture_doc()
    mutate(doc)
    return doc


BAD_DOCS = {
    "unknown category": (lambda d: d["services"][0].update(category="weather"), ["JL-001", "category", "weather"]),
    "unknown bureau": (lambda d: d["services"][1].update(bureau="nasa"), ["JL-002", "bureau", "nasa"]),
    "duplicate code": (lambda d: d["services"][3].update(code="JL-001"), ["JL-001", "code", "重复"]),
    "missing materials": (lambda d: d["services"][0].pop("materials"), ["JL-001", "materials", "必填"]),
    "empty conditions": (lambda d: d["services"][2].update(conditions="  "), ["BZ-001", "conditions", "必填"]),
    "non-integer days": (lambda d: d["services"][0].update(time_limit_days="十天"),
                         ["JL-001", "time_limit_days", "整数"]),
    "fractional days": (lambda d: d["services"][0].update(time_limit_days=2.5), ["JL-001", "time_limit_days", "整数"]),
    "zero days": (lambda d: d["services"][0].update(time_limit_days=0), ["JL-001", "time_limit_days"]),
    "bad datatype": (lambda d: d["services"][0]["fields"][0].update(datatype="color"), ["JL-001", "datatype", "color"]),
    "list field without values": (lambda d: d["services"][0]["fields"][1].update(values=[]), ["JL-001", "values"]),
    "bad online flag": (lambda d: d["services"][0].update(online="maybe"), ["JL-001", "online"]),
    "bad code characters": (lambda d: d["services"][0].update(code="JL 001/../x"), ["code"]),
    "statutory shorter than promised": (lambda d: d["services"][0].update(statutory_limit_days=1),
                                        ["statutory_limit_days"]),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCS))
def test_bad_catalog_writes_nothing(app, runner, tmp_path, case):
    mutate, expected = BAD_DOCS[case]
    doc = _bad_doc(mutate)
    doc["services"][5]["name"] = "这条改动不能被写入"  # a valid change next to the bad one
    before = snapshot(app)
    result = run_import(runner, write_json(tmp_path / "bad.json", doc))
    assert result.exit_code != 0
    for word in expected:
        assert word in result.output
    assert "未写入" in result.output
    assert snapshot(app) == before


def test_every_problem_is_listed_not_just_the_first(app, runner, tmp_path):
    def mutate(d):
        d["services"][0]["category"] = "weather"
        d["services"][1]["bureau"] = "nasa"
        d["services"][2]["time_limit_days"] = "abc"
        d["services"][3].pop("fee")
        d["services"][4]["code"] = "JL-001"
    result = run_import(runner, write_json(tmp_path / "bad.json", _bad_doc(mutate)))
    assert result.exit_code != 0
    assert "5 处问题" in result.output
    for word in ("category", "bureau", "time_limit_days", "fee", "重复"):
        assert word in result.output


@pytest.mark.parametrize("name,content,expected", [
    ("catalog.txt", b"hello", "不支持的文件类型"),
    ("catalog.json", b'{"services": [\xff\xfe]}', "UTF-8"),
    ("catalog.csv", "code,name\nJL-001,地磅".encode("gbk"), "UTF-8"),
    ("catalog.json", b'{"services": [', "JSON 格式错误"),
    ("catalog.json", b'[1, 2]', "对象"),
    ("catalog.xlsx", b"PK\x03\x04 not really a workbook", "Excel"),
    ("catalog.xlsx", b"just text renamed to xlsx", "Excel"),
    ("catalog.csv", b"", "空"),
    ("catalog.csv", "code,name,colour\nJL-001,地磅,red\n".encode(), "colour"),
])
def test_bad_files_are_refused(app, runner, tmp_path, name, content, expected):
    before = snapshot(app)
    path = tmp_path / name
    path.write_bytes(content)
    result = run_import(runner, path)
    assert result.exit_code != 0
    assert expected in result.output
    assert snapshot(app) == before


def test_missing_file(runner, tmp_path):
    result = run_import(runner, tmp_path / "nope.json")
    assert result.exit_code != 0 and "找不到文件" in result.output


def test_csv_problems_name_their_row(app, runner, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("code,name,category,bureau,summary,conditions,materials,process,legal_basis,"
                    "time_limit_days,fee,contact\n"
                    "X-1,好的服务,计量,amr,摘要,条件,材料,流程,依据,5,不收费,电话\n"
                    "X-2,坏的服务,天气,amr,摘要,条件,材料,流程,依据,五,不收费,电话\n", encoding="utf-8")
    result = run_import(runner, path)
    assert result.exit_code != 0
    assert "第 3 行（X-2）" in result.output
    assert "第 2 行" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Service).where(Service.code == "X-1")) == 0


def test_xlsx_problems_name_their_row(app, runner, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "services"
    ws.append(["code", "name", "category", "bureau", "summary", "conditions", "materials", "process",
               "legal_basis", "time_limit_days", "fee", "contact"])
    ws.append(["X-1", "服务", "metrology", "amr", "摘要", "条件", "材料", "流程", "依据", 5.5, "不收费", "电话"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = run_import(runner, path)
    assert result.exit_code != 0
    assert "第 2 行" in result.output and "time_limit_days" in result.output


def test_exported_xlsx_has_services_and_bureaus_sheets(app, runner, tmp_path):
    out = tmp_path / "c.xlsx"
    assert runner.invoke(args=["catalog", "export", str(out)]).exit_code == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["services", "bureaus"]
    assert wb["services"]["A1"].value == "code"
    assert wb["services"].max_row == 12


def test_export_refuses_unknown_format(runner, tmp_path):
    result = runner.invoke(args=["catalog", "export", str(tmp_path / "c.pdf")])
    assert result.exit_code != 0 and "不支持的文件类型" in result.output


def test_changing_request_fields_but_keeping_their_codes(app, runner, tmp_path):
    doc = fixture_doc()
    doc["services"][0]["fields"][0]["label"] = "最大秤量（吨，含皮重）"
    doc["services"][0]["fields"][1]["required"] = False
    result = run_import(runner, write_json(tmp_path / "c.json", doc))
    assert result.exit_code == 0, result.output
    with app.app_context():
        svc = db.session.scalar(select(Service).where(Service.code == "JL-001"))
        assert [f.label for f in svc.fields][0] == "最大秤量（吨，含皮重）" and svc.fields[1].required is False


def test_import_keeps_category_texts_edited_by_admins(app, runner):
    from services.models import Category

    with app.app_context():
        cat = db.session.scalar(select(Category).where(Category.code == "metrology"))
        cat.description = "管理员改过的说明"
        db.session.commit()
    assert run_import(runner, FIXTURE_CATALOG).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Category.description).where(Category.code == "metrology")) == "管理员改过的说明"
