"""Catalog files: JSON (the whole document), CSV and XLSX (service rows, lists joined with `|`,
request fields as JSON text; an XLSX file may also carry a `bureaus` sheet).

Readers return `(document, labels)`, labels naming each service row for error messages
("第 3 行"). Any problem with the file itself raises CatalogError.

CSV and XLSX are read through services.core.sheets, within its limits (inflated size and
compression ratio of an .xlsx, rows, cells, time); a refusal is a CatalogError on "文件".
Written CSV and XLSX cells go through sheets.safe_cell, so a text such as `=cmd|' /C calc'!A0`
is a text cell, never a live formula.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Sequence

from services.catalog.problems import CatalogError, Problem
from services.core import sheets

SERVICE_HEADERS = ("code", "name", "category", "bureau", "summary", "conditions", "materials", "process",
                   "legal_basis", "time_limit_days", "statutory_limit_days", "fee", "place", "hours",
                   "contact", "keywords", "online", "popular", "published", "fields")
BUREAU_HEADERS = ("code", "name", "short_name", "phone", "address", "office_hours", "description",
                  "joint_office")
LIST_COLUMNS = ("materials", "process", "keywords")
FORMATS = (".json", ".csv", ".xlsx")
MAX_FILE_BYTES = 20 * 1024 * 1024


def _fail(message: str, where: str = "文件", field: str = "") -> CatalogError:
    return CatalogError([Problem(where, field, message)])


def read_catalog_file(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise _fail(f"不支持的文件类型“{path.suffix or '无扩展名'}”，请使用 .json、.csv 或 .xlsx")
    if not path.is_file():
        raise _fail(f"找不到文件 {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise _fail(f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB")
    raw = path.read_bytes()
    try:
        if suffix == ".xlsx":
            return _read_xlsx(raw)
        text = _decode(raw)
        if suffix == ".json":
            return _read_json(text)
        return _read_csv(text)
    except sheets.SheetRefused as exc:
        raise _fail(exc.message) from None


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(f"第 {line} 行不是有效的 UTF-8 编码（在 Excel 中请另存为“CSV UTF-8”）") from None


def _read_json(text: str) -> tuple[dict[str, Any], list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from None
    if not isinstance(data, dict):
        raise _fail("目录文件应为含 bureaus 和 services 的 JSON 对象")
    services = data.get("services")
    count = len(services) if isinstance(services, list) else 0
    if count > sheets.MAX_ROWS:
        raise _fail(f"服务超过 {sheets.MAX_ROWS} 项，请拆分后分批导入")
    return data, [f"services 第 {i} 项" for i in range(1, count + 1)]


def _rows_to_services(cells: Sequence[object], rows: list[tuple[int, list[Any]]]) -> tuple[dict[str, Any], list[str]]:
    """Service records from a header row (CSV text or spreadsheet cell values) and the rows under it."""
    header = [str(h or "").strip().lower() for h in cells]
    problems: list[Problem] = []
    unknown = [h for h in header if h and h not in SERVICE_HEADERS]
    if unknown:
        problems.append(Problem("表头", "", f"无法识别的列：{'、'.join(unknown)}；"
                                          f"可用的列：{', '.join(SERVICE_HEADERS)}"))
    if "code" not in header:
        problems.append(Problem("表头", "code", "缺少 code 列"))
    if problems:
        raise CatalogError(problems)
    services: list[dict[str, Any]] = []
    labels: list[str] = []
    for line, cells in rows:
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        item: dict[str, Any] = {}
        for key, value in zip(header, cells):
            if not key:
                continue
            if isinstance(value, str):
                value = value.strip()
            if key == "fields":
                value = _parse_fields_cell(value, line, problems)
            item[key] = value if value != "" else None
        services.append(item)
        labels.append(f"第 {line} 行")
    if problems:
        raise CatalogError(problems)
    return {"services": services}, labels


def _parse_fields_cell(value: Any, line: int, problems: list[Problem]) -> Any:
    if value in (None, ""):
        return []
    try:
        return json.loads(value)
    except (TypeError, json.JSONDecodeError):
        example = '[{"code": "qty", "label": "数量", "datatype": "number"}]'
        problems.append(Problem(f"第 {line} 行", "fields", f"申请字段应为 JSON 列表，如 {example}"))
        return []


def _read_csv(text: str) -> tuple[dict[str, Any], list[str]]:
    try:
        rows = list(sheets.csv_rows(text, sheets.Budget()))
    except csv.Error as exc:
        raise _fail(f"CSV 格式错误：{exc}") from None
    if not rows:
        raise _fail("文件是空的")
    return _rows_to_services(rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)])


def _read_xlsx(raw: bytes) -> tuple[dict[str, Any], list[str]]:
    wb = sheets.open_workbook(raw)
    budget = sheets.Budget()
    try:
        sheet = wb["services"] if "services" in wb.sheetnames else wb.worksheets[0]
        rows = list(sheets.sheet_rows(sheet, budget))
        if not rows:
            raise _fail("工作表 services 是空的")
        data, labels = _rows_to_services(rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)])
        if "bureaus" in wb.sheetnames:
            brows = list(sheets.sheet_rows(wb["bureaus"], budget))
            if brows:
                bheader = [str(h or "").strip().lower() for h in brows[0]]
                data["bureaus"] = [
                    {k: (v if v is not None else "") for k, v in zip(bheader, r) if k}
                    for r in brows[1:] if any(c not in (None, "") for c in r)
                ]
        return data, [f"services 工作表{label}" for label in labels]
    finally:
        wb.close()


def write_catalog_file(document: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise _fail(f"不支持的文件类型“{path.suffix or '无扩展名'}”，请使用 .json、.csv 或 .xlsx")
    if suffix == ".json":
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return
    rows = [[sheets.safe_cell(_cell(s, key)) for key in SERVICE_HEADERS] for s in document["services"]]
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(SERVICE_HEADERS)
            writer.writerows(rows)
        return
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("services")
    ws.append(list(SERVICE_HEADERS))
    for row in rows:
        ws.append(row)
    bs = wb.create_sheet("bureaus")
    bs.append(list(BUREAU_HEADERS))
    for b in document.get("bureaus", []):
        bs.append([sheets.safe_cell(b.get(k, "")) for k in BUREAU_HEADERS])
    wb.save(path)


def _cell(service: dict[str, Any], key: str) -> Any:
    value = service.get(key)
    if key in LIST_COLUMNS:
        return "|".join(value or [])
    if key == "fields":
        return json.dumps(value or [], ensure_ascii=False) if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value
