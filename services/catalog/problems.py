"""What is wrong with an input, and the parsing helpers every check shares.

`Problem` and `CatalogError` are how the catalog validation and the catalog file readers report
bad input (row or service code, field, message); the parse helpers read the spellings a
spreadsheet user types. `TOO_LONG` is the one message for a text over its length limit, used by
the catalog and by every admin form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from services.core import cleantext
from services.core.texts import N_

TOO_LONG = N_("不能超过 %(max)d 个字")

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = {"true", "1", "yes", "y", "是", "t", "on"}
_FALSE = {"false", "0", "no", "n", "否", "f", "off", ""}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (row or service code), which field, what."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} · {self.field}：{self.message}" if self.field else f"{self.where}：{self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "field": self.field, "message": self.message}


class CatalogError(Exception):
    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def clean_text(value: Any) -> str:
    """A value as stripped text without control, bidi-override or zero-width characters ("" for
    None; services.core.cleantext)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return cleantext.text(_CONTROL_RE.sub("", value)).strip()


def parse_bool(value: Any) -> bool | None:
    """True/False from JSON booleans and the spellings a spreadsheet user types; None if unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


def parse_int(value: Any) -> int | None:
    """A whole number from a JSON int, a float with no fraction (spreadsheets) or a digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def split_list(value: Any) -> list[str] | None:
    """A list of non-empty strings from a JSON list or a `|`-joined string; None if neither."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split("|")
    elif isinstance(value, list):
        if not all(isinstance(i, (str, int, float)) and not isinstance(i, bool) for i in value):
            return None
        items = [str(i) for i in value]
    else:
        return None
    return [t for t in (clean_text(i) for i in items) if t]
