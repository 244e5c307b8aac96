"""Attachments: type decided from the content, size limits, random stored names.

Files are first written under a random name in the upload folder; the caller records them in
the database and, if its transaction fails, calls `discard` so nothing is left behind.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.core import cleantext
from services.core.errors import ValidationFailed
from services.core.texts import N_, Join
from services.core.texts import Text as _msg

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_REQUEST_BYTES = 30 * 1024 * 1024
MAX_FILES = 10

# detected type -> (mime type, extensions a user may give it)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "jpg": ("image/jpeg", (".jpg", ".jpeg")),
    "png": ("image/png", (".png",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
}
ALLOWED_TEXT = N_("PDF、JPG、PNG、Word（.docx）、Excel（.xlsx）")
# What a user means by each extension, to say "the content is not a …" for a file that only has the name.
KIND_NAMES: dict[str, str] = {"pdf": N_("PDF"), "jpg": N_("JPG 图片"), "png": N_("PNG 图片"),
                              "docx": N_("Word（.docx）"), "xlsx": N_("Excel（.xlsx）")}


class UploadTooLarge(ValidationFailed):
    """A file or the files together are over the limit (HTTP 413)."""

    status = 413
    code = "too_large"


@dataclass
class Incoming:
    """A file as received: its name as the user's computer called it and a readable stream."""

    filename: str
    stream: IO[bytes]


@dataclass
class Stored:
    original_name: str
    stored_name: str
    mime_type: str
    size: int
    sha256: str


def clean_filename(name: str) -> str:
    """A display name without any path, control, bidi-override or zero-width characters or
    surrounding dots (services.core.cleantext.filename)."""
    return cleantext.filename(name, fallback="附件")


def sniff(head: bytes, data: bytes) -> str | None:
    """The file's real type from its bytes, or None if it is none of the allowed ones."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    return None


def check(files: list[Incoming], already: int = 0) -> list[tuple[Incoming, bytes, str]]:
    """Read and check every file; raise ValidationFailed naming each bad one. Nothing is stored."""
    problems: list[str] = []
    mb = MAX_FILE_BYTES // 1024 // 1024
    too_large = False
    accepted: list[tuple[Incoming, bytes, str]] = []
    files = [f for f in files if f.filename]
    if len(files) > MAX_FILES:
        raise ValidationFailed({"attachments": _msg(N_("一次最多上传 %(n)s 个文件"), n=MAX_FILES)})
    total = already
    for f in files:
        name = clean_filename(f.filename)
        data = f.stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            problems.append(_msg(N_("“%(name)s”超过 %(mb)s MB"), name=name, mb=mb))
            too_large = True
            continue
        if not data:
            problems.append(_msg(N_("“%(name)s”是空文件"), name=name))
            continue
        kind = sniff(data[:16], data)
        ext = os.path.splitext(name)[1].lower()
        claimed = next((k for k, (_mime, exts) in TYPES.items() if ext in exts), None)
        if kind is None and claimed is not None:  # named .pdf, .docx …, but the bytes are something else
            problems.append(_msg(N_("“%(name)s”的文件内容不是 %(kind)s（可能已损坏，或只是改了扩展名），"
                                    "请上传真正的 %(kind)s 文件"), name=name, kind=_msg(KIND_NAMES[claimed])))
            continue
        if kind is None:
            problems.append(_msg(N_("“%(name)s”不是允许的文件类型（只接受 %(types)s）"), name=name,
                                  types=_msg(ALLOWED_TEXT)))
            continue
        if ext not in TYPES[kind][1]:
            problems.append(_msg(N_("“%(name)s”的内容是 %(kind)s 文件，与扩展名“%(ext)s”不符"), name=name,
                                  kind=kind.upper(), ext=ext or _msg(N_("无"))))
            continue
        total += len(data)
        accepted.append((f, data, kind))
    if total > MAX_REQUEST_BYTES:
        problems.append(_msg(N_("附件合计超过 %(mb)s MB"), mb=MAX_REQUEST_BYTES // 1024 // 1024))
        too_large = True
    if problems:
        raise (UploadTooLarge if too_large else ValidationFailed)({"attachments": Join(N_("；"), problems)})
    return accepted


def store(upload_dir: str | os.PathLike, checked: list[tuple[Incoming, bytes, str]]) -> list[Stored]:
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stored: list[Stored] = []
    try:
        for f, data, kind in checked:
            stored_name = secrets.token_hex(16)
            path = folder / stored_name
            with open(path, "xb") as fh:
                fh.write(data)
            stored.append(Stored(clean_filename(f.filename), stored_name, TYPES[kind][0], len(data),
                                 hashlib.sha256(data).hexdigest()))
    except OSError:
        discard(upload_dir, stored)
        raise
    return stored


def discard(upload_dir: str | os.PathLike, stored: list[Stored]) -> None:
    for s in stored:
        try:
            (Path(upload_dir) / s.stored_name).unlink()
        except FileNotFoundError:
            pass


def path_of(upload_dir: str | os.PathLike, stored_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        raise ValueError("bad stored name")
    return Path(upload_dir) / stored_name
