"""CSV and XLSX files of a statistics report: the same tables, the same cells as the page
(``services.stats.tables.report_tables``). No Flask imports."""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from services.core.clock import BEIJING
from services.core.sheets import safe_cell  # formula injection: = + - @ as text
from services.stats.reports import Report
from services.stats.tables import Table, report_tables

TITLE = "澧县质量基础设施一站式服务平台 · 办件统计"
BOM = "\ufeff"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _preamble(rep: Report) -> list[tuple[str, str]]:
    flt = rep.filter
    rows = [
        ("统计区间（提交日期）", f"{flt.date_from.isoformat()} 至 {flt.date_to.isoformat()}"),
        ("单位", flt.bureau_name or "全部单位"),
        ("统计日期", rep.today.isoformat()),
    ]
    if rep.computed_at is not None:
        rows.append(("数据更新时间", rep.computed_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M（北京时间）")))
    return rows


def filename(rep: Report, ext: str) -> str:
    flt = rep.filter
    parts = ["statistics", flt.date_from.strftime("%Y%m%d"), flt.date_to.strftime("%Y%m%d")]
    if flt.bureau_code:
        parts.append(re.sub(r"[^A-Za-z0-9_-]", "", flt.bureau_code))
    return "-".join(parts) + "." + ext


def to_csv(rep: Report, tables: list[Table] | None = None) -> bytes:
    """UTF-8 with a byte-order mark (so that Excel reads the Chinese right). Each table is a
    title line, a header line, its rows and an empty line."""
    tables = tables if tables is not None else report_tables(rep)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([TITLE])
    for label, value in _preamble(rep):
        writer.writerow([label, safe_cell(value)])
    writer.writerow([])
    for table in tables:
        writer.writerow([table.title])
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([safe_cell(_cell(v)) for v in row])
        if table.note:
            writer.writerow([f"说明：{table.note}"])
        writer.writerow([])
    return (BOM + out.getvalue()).encode("utf-8")


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", title)[:31]


def to_xlsx(rep: Report, tables: list[Table] | None = None) -> bytes:
    """One sheet “说明” with the filter, then one sheet per table (header in row 1)."""
    tables = tables if tables is not None else report_tables(rep)
    wb = Workbook()
    info = wb.worksheets[0]         # the one sheet a new workbook has
    info.title = "说明"
    info.append([TITLE])
    info["A1"].font = Font(bold=True, size=13)
    for label, value in _preamble(rep):
        info.append([label, safe_cell(value)])
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 40
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(_sheet_title(table.title))
        ws.append(list(table.columns))
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            ws.append([safe_cell(_cell(v)) for v in row])
        if table.note:
            ws.append([])
            ws.append([f"说明：{table.note}"])
        ws.freeze_panes = "A2"
        for i, column in enumerate(table.columns, 1):
            longest = max([len(str(column))] + [len(str(_cell(r[i - 1]))) for r in table.rows])
            ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest * 2 + 2), 48)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
