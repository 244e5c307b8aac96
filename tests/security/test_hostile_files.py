"""Issue 12, item 6 — hostile files: `catalog import` refuses zip bombs and oversized sheets
quickly with a message (nothing written), and `catalog export` never writes a live formula."""
from __future__ import annotations

import csv
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.extensions import db
from services.core import sheets
from services.models import Service

DDE = "=cmd|' /C calc'!A0"
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def run(runner, *args: str):
    return runner.invoke(args=["catalog", *args])


def write_xlsx(path: Path, sheet_body, *, level: int = 1) -> Path:
    """A minimal valid .xlsx whose one sheet's XML comes from `sheet_body` (an iterator of bytes),
    written streaming so that a sheet of hundreds of MB costs the test little memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '</Types>'))
        z.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{SHEET_NS}" xmlns:r="{REL_NS}">'
            '<sheets><sheet name="services" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}"><sheetData>'.encode())
            for part in sheet_body:
                fh.write(part)
            fh.write(b"</sheetData></worksheet>")
    return path


def repeated_rows(total_bytes: int):
    row = ('<row><c t="inlineStr"><is><t>JL-001</t></is></c>'
           '<c t="inlineStr"><is><t>电子秤检定</t></is></c></row>').encode()
    chunk = row * 8000
    for _ in range(total_bytes // len(chunk) + 1):
        yield chunk


def services_before(app) -> dict[str, str]:
    with app.app_context():
        return {s.code: s.summary for s in db.session.scalars(select(Service))}


# --------------------------------------------------------------------------- import limits
def test_zip_bomb_xlsx_is_refused_quickly_on_dry_run(app, runner, tmp_path):
    bomb = write_xlsx(tmp_path / "bomb.xlsx", repeated_rows(200 * 1024 * 1024))
    assert bomb.stat().st_size < 5 * 1024 * 1024  # small on disk, 200 MB inflated
    started = time.monotonic()
    result = run(runner, "import", str(bomb), "--dry-run")
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert "解压后超过 50 MB" in result.output and "未写入任何内容" in result.output


def test_member_with_absurd_compression_ratio_is_refused(app, runner, tmp_path):
    path = write_xlsx(tmp_path / "ratio.xlsx", repeated_rows(20 * 1024 * 1024), level=9)  # under 50 MB inflated
    result = run(runner, "import", str(path), "--dry-run")
    assert result.exit_code == 1
    assert "压缩比异常" in result.output and "sheet1.xml" in result.output


def test_sheet_declaring_a_million_rows_is_refused(app, runner, tmp_path):
    # Tiny on disk: one cell in row 1 and one in the last row; a reader fills in the rows between.
    body = [b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>',
            b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>JL-001</t></is></c></row>']
    path = write_xlsx(tmp_path / "tall.xlsx", iter(body))
    started = time.monotonic()
    result = run(runner, "import", str(path), "--dry-run")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert f"行数超过 {sheets.MAX_ROWS} 行" in result.output


def exported_csv(runner, tmp_path) -> list[list[str]]:
    out = tmp_path / "catalog.csv"
    assert run(runner, "export", str(out)).exit_code == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_csv_with_too_many_rows_is_refused(app, runner, tmp_path):
    header, first, *_ = exported_csv(runner, tmp_path)
    code = header.index("code")
    rows = [header] + [first[:code] + [f"X-{i:05d}"] + first[code + 1:] for i in range(sheets.MAX_ROWS + 1)]
    before = services_before(app)
    result = run(runner, "import", str(write_csv(tmp_path / "many.csv", rows)))
    assert result.exit_code == 1
    assert f"行数超过 {sheets.MAX_ROWS} 行" in result.output
    assert services_before(app) == before


def test_slow_read_stops_at_the_time_limit(app, runner, tmp_path, monkeypatch):
    header, first, *_ = exported_csv(runner, tmp_path)
    monkeypatch.setattr(sheets, "MAX_SECONDS", 0.0)
    result = run(runner, "import", str(write_csv(tmp_path / "slow.csv", [header] + [first] * 150)), "--dry-run")
    assert result.exit_code == 1
    assert "读取文件超过 0 秒" in result.output


# --------------------------------------------------------------------------- formulas
def test_formula_in_an_imported_sheet_is_refused_but_ordinary_signs_pass(app, runner, tmp_path):
    header, first, *_ = exported_csv(runner, tmp_path)
    col = {name: i for i, name in enumerate(header)}
    evil = list(first)
    evil[col["summary"]] = DDE
    before = services_before(app)
    result = run(runner, "import", str(write_csv(tmp_path / "evil.csv", [header, evil])))
    assert result.exit_code == 1
    assert "summary" in result.output and "公式" in result.output
    assert services_before(app) == before

    plain = list(first)
    plain[col["contact"]] = "+86 0736-3221234"
    plain[col["fee"]] = "-（免费）"
    result = run(runner, "import", str(write_csv(tmp_path / "plain.csv", [header, plain])))
    assert result.exit_code == 0, result.output
    with app.app_context():
        service = db.session.scalar(select(Service).where(Service.code == first[col["code"]]))
        assert (service.contact, service.fee) == ("+86 0736-3221234", "-（免费）")


def set_summary(app, text: str) -> str:
    """Old data: a summary stored before imports refused formulas."""
    with app.app_context():
        service = db.session.scalar(select(Service).order_by(Service.code))
        service.summary = text
        db.session.commit()
        return service.code


def test_export_writes_formulas_as_text_in_xlsx_and_csv(app, runner, tmp_path):
    code = set_summary(app, DDE)
    xlsx = tmp_path / "catalog.xlsx"
    assert run(runner, "export", str(xlsx)).exit_code == 0
    wb = load_workbook(xlsx)
    ws = wb["services"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("code")].value == code)
    cell = row[header.index("summary")]
    assert cell.data_type == "s" and cell.value == "'" + DDE
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)

    rows = exported_csv(runner, tmp_path)
    line = next(r for r in rows[1:] if r[rows[0].index("code")] == code)
    assert line[rows[0].index("summary")] == "'" + DDE


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_of_plus_and_minus_text_imports_back_unchanged(app, runner, tmp_path, suffix):
    with app.app_context():
        service = db.session.scalar(select(Service).order_by(Service.code))
        service.contact, code = "+86 0736-3221234", service.code
        db.session.commit()
    path = tmp_path / f"catalog{suffix}"
    assert run(runner, "export", str(path)).exit_code == 0
    result = run(runner, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "更新 0 项" in result.output
    with app.app_context():
        assert db.session.scalar(select(Service.contact).where(Service.code == code)) == "+86 0736-3221234"
