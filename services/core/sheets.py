"""Spreadsheets in and out, safely: the one reader every import of CSV/XLSX sheets uses (the
service catalog now, the scope and instrument sheets later), and the cell text every export
writes.

Reading. A file's size on disk says little about an .xlsx (a zip): 4 MB can inflate to gigabytes.
`open_workbook` refuses a workbook whose members together declare more than MAX_UNCOMPRESSED
bytes or whose larger members are compressed more than MAX_RATIO to one (zipfile never inflates
a member beyond its declared size, so the declaration is a real cap), and `Budget` stops a
read after MAX_ROWS rows, MAX_CELLS cells or MAX_SECONDS seconds. Each refusal is a SheetRefused
(a ValidationFailed under "file") with a message saying which limit was hit.

Writing. A text cell starting with = + - @ (or a tab or carriage return) is a formula to Excel,
LibreOffice and WPS — `=cmd|' /C calc'!A0` runs a program. `safe_cell` prefixes such text with
an apostrophe, so it is shown as the text it is; `unescape_cell` removes that apostrophe again
when such a file is imported, so an export imports back unchanged. `is_formula` says whether a
text is a formula an import should refuse: anything starting with "=", and a text starting with
+ - @ that carries the DDE shape `name|…!` — "+86 0736…", "-5" or "- 营业执照" are ordinary text.
"""
from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from services.core.errors import ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg

MAX_UNCOMPRESSED = 50 * 1024 * 1024   # all members of an .xlsx together, inflated
MAX_RATIO = 100                       # inflated : compressed, for members over RATIO_FROM bytes
RATIO_FROM = 1024 * 1024
MAX_ROWS = 5000                       # all sheets of one file together
MAX_CELLS = 200_000
MAX_SECONDS = 30.0

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DDE = re.compile(r"[A-Za-z0-9_.]+\s*\|.*!")


class SheetRefused(ValidationFailed):
    """The file is over one of the reading limits (or not a readable workbook)."""

    def __init__(self, message: str):
        super().__init__({"file": message}, message)


@dataclass
class Budget:
    """What one file may still cost: rows, cells and time, shared by all of its sheets."""

    max_rows: int = field(default_factory=lambda: MAX_ROWS)
    max_cells: int = field(default_factory=lambda: MAX_CELLS)
    seconds: float = field(default_factory=lambda: MAX_SECONDS)
    rows: int = 0
    cells: int = 0
    started: float = field(default_factory=time.monotonic)

    def take(self, row: Sequence[Any]) -> None:
        self.rows += 1
        self.cells += len(row)
        if self.rows > self.max_rows:
            raise SheetRefused(_msg(N_("文件行数超过 %(max)s 行，请拆分后分批导入"), max=self.max_rows))
        if self.cells > self.max_cells:
            raise SheetRefused(_msg(N_("文件单元格数超过 %(max)s 个（可能含有大量空列），请删除多余的行列后再导入"),
                                    max=self.max_cells))
        if self.rows % 100 == 0 and time.monotonic() - self.started > self.seconds:
            raise SheetRefused(_msg(N_("读取文件超过 %(seconds)s 秒，已停止；请检查文件是否过大或已损坏"),
                                    seconds=int(self.seconds)))


def check_zip(raw: bytes) -> None:
    """Refuse an .xlsx that would inflate beyond the limits, before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SheetRefused(_msg(N_("无法读取 Excel 文件：内容不是有效的 .xlsx 工作簿"))) from None
    total = sum(m.file_size for m in members)
    mb = MAX_UNCOMPRESSED // 1024 // 1024
    if total > MAX_UNCOMPRESSED:
        raise SheetRefused(_msg(N_("Excel 文件解压后超过 %(mb)s MB（解压后约 %(size)s MB），请拆分后分批导入"),
                                mb=mb, size=total // 1024 // 1024))
    for m in members:
        if m.file_size > RATIO_FROM and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise SheetRefused(_msg(N_("Excel 文件中的“%(name)s”压缩比异常（超过 %(ratio)s 倍），"
                                       "可能是恶意文件，已拒绝"), name=m.filename[:80], ratio=MAX_RATIO))


def open_workbook(raw: bytes) -> Any:
    """An openpyxl read-only workbook (cached values, not formulas) after `check_zip`; close it."""
    from openpyxl import load_workbook

    check_zip(raw)
    try:
        return load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise SheetRefused(_msg(N_("无法读取 Excel 文件：内容不是有效的 .xlsx 工作簿"))) from None


def sheet_rows(sheet: Any, budget: Budget) -> Iterator[list[Any]]:
    """A worksheet's rows as lists of values, within `budget`; texts `unescape_cell`ed."""
    for row in sheet.iter_rows(values_only=True):
        budget.take(row)
        yield [unescape_cell(v) for v in row]


def csv_rows(text: str, budget: Budget) -> Iterator[list[Any]]:
    """CSV text's rows, within `budget`; texts `unescape_cell`ed. csv.Error for a broken file."""
    for row in csv.reader(io.StringIO(text, newline="")):
        budget.take(row)
        yield [unescape_cell(v) for v in row]


# --------------------------------------------------------------------------- formulas
def safe_cell(value: Any) -> Any:
    """Spreadsheet formula injection: a text cell starting with = + - @ (tab, CR) is written as text."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def unescape_cell(value: Any) -> Any:
    """The text `safe_cell` wrote, read back: the apostrophe before = + - @ removed."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in FORMULA_START and value[1:2]:
        return value[1:]
    return value


def is_formula(value: Any) -> bool:
    """A text an import refuses: starts with "=", or with + - @ and has the DDE shape `name|…!`."""
    if not isinstance(value, str):
        return False
    text = value.lstrip()
    if text.startswith("="):
        return True
    return text[:1] in ("+", "-", "@") and bool(_DDE.search(text))
