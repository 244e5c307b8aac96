"""Text as people send it, made safe to store and show: the one place that decides which
characters a name, a free text or a file name may keep.

- `name`: single-line names (company, contact, service field answers of type string): NFC,
  without control characters (C0, C1), bidi overrides/embeddings/isolates (U+202A–U+202E,
  U+2066–U+2069, and the marks U+200E/U+200F/U+061C) and zero-width characters (U+200B–U+200D,
  U+2060, U+FEFF); runs of whitespace become one space; stripped.
- `text`: multi-line free text (descriptions, messages): the same, but line breaks are kept
  (\\r\\n and \\r become \\n) and tabs too; spaces inside a line are left as typed.
- `filename`: a file's display name: the name rules, any path and the characters Windows refuses
  (<>:"|?*) removed, leading/trailing dots removed, at most 120 characters (the end, so the
  extension stays), `fallback` when nothing is left.
- `ascii_form`: NFKC, for codes people type on a Chinese keyboard (mobile numbers, e-mail
  addresses, 统一社会信用代码): full-width "１３９" becomes "139".

Free text and names are NFC, not NFKC, on purpose: NFKC maps the full-width forms Chinese text
uses ("（", "：", "，" → "(", ":", ",") and would change what people typed.

NUL is refused, not silently dropped: `refuse_nul` raises ValidationFailed naming each field,
before anything is written (PostgreSQL cannot store it, and nobody types it).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from services.core.errors import ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg

NUL_REFUSED = N_("不能包含空字符（NUL），请删除后重新填写")

# Bidi overrides, embeddings, isolates and marks; zero-width characters.
_INVISIBLE = "\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff"
_CONTROL_NO_SPACE = "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f"  # C0/C1 except \t \n \v \f \r and NEL
_NAME_DROP = re.compile(f"[{_CONTROL_NO_SPACE}{_INVISIBLE}]")
_TEXT_DROP = re.compile(f"[{_CONTROL_NO_SPACE}\x0b\x0c\x85{_INVISIBLE}]")
_SPACES = re.compile(r"\s+")
_FILE_FORBIDDEN = re.compile(r'[<>:"|?*]')
# What XML 1.0 allows (https://www.w3.org/TR/xml/#charsets); the rest cannot be written at all.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def name(value: Any, limit: int | None = None) -> str:
    """A single-line name: see the module's description."""
    cleaned = _NAME_DROP.sub("", unicodedata.normalize("NFC", _str(value)))
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned[:limit] if limit is not None else cleaned


def text(value: Any, limit: int | None = None) -> str:
    """Multi-line free text: line breaks kept as \\n, invisible and control characters removed."""
    cleaned = unicodedata.normalize("NFC", _str(value)).replace("\r\n", "\n").replace("\r", "\n")
    cleaned = cleaned.replace("\u2028", "\n").replace("\u2029", "\n")
    cleaned = _TEXT_DROP.sub("", cleaned).strip()
    return cleaned[:limit] if limit is not None else cleaned


def filename(value: Any, fallback: str = "附件") -> str:
    """A file's display name without any path, control, bidi or zero-width characters."""
    raw = re.split(r"[\\/]", _str(value))[-1]
    cleaned = _FILE_FORBIDDEN.sub("", name(raw)).strip().strip(".").strip()
    return cleaned[-120:] or fallback


def ascii_form(value: Any) -> str:
    """NFKC (full-width digits and letters to ASCII) without invisible characters, for codes."""
    return _NAME_DROP.sub("", unicodedata.normalize("NFKC", _str(value)))


def xml_safe(value: str) -> str:
    """`value` without the characters XML 1.0 cannot carry (NUL, \\v, lone surrogates …), for
    writing texts stored before they were cleaned."""
    return _NOT_XML.sub("", value)


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


def nul_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """The fields (by key) whose value contains NUL, each with the message to show."""
    return {key: _msg(NUL_REFUSED) for key, value in values.items() if has_nul(value)}


def refuse_nul(values: Mapping[str, Any]) -> None:
    """ValidationFailed naming every field of `values` that contains NUL; nothing is written."""
    problems = nul_problems(values)
    if problems:
        raise ValidationFailed(problems)


def message(value: Any, key: str = "message", limit: int | None = None) -> str:
    """A free-text message from a form: NUL refused (under `key`), the rest as `text`."""
    refuse_nul({key: value})
    return text(value, limit)
