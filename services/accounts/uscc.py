"""统一社会信用代码 (GB 32100-2015): normalisation and check-character validation."""
from __future__ import annotations

import re

from services.core import cleantext
from services.core.texts import N_
from services.core.texts import Text as _msg

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 3^(i-1) mod 31 for positions 1..17
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_SPACES = re.compile(r"[\s\u3000-]+")


class InvalidUSCC(ValueError):
    """The code is not a valid 统一社会信用代码; `message` says why: Chinese, as a services.core.texts.Text
    that the web layer shows in the page language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def normalise(raw: str) -> str:
    """Upper case, half-width (NFKC: ０-９ Ａ-Ｚ ａ-ｚ to ASCII), without spaces, hyphens or
    invisible characters."""
    return _SPACES.sub("", cleantext.ascii_form(raw)).upper()


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code or raise InvalidUSCC explaining what is wrong."""
    code = normalise(raw)
    if not code:
        raise InvalidUSCC(_msg(N_("请填写统一社会信用代码")))
    if len(code) != 18:
        raise InvalidUSCC(_msg(N_("统一社会信用代码应为 18 位，您填写了 %(n)s 位"), n=len(code)))
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise InvalidUSCC(_msg(N_("统一社会信用代码不能含有字符 %(chars)s（不使用 I、O、S、V、Z）"), chars=bad))
    if not code[2:8].isdigit():
        raise InvalidUSCC(_msg(N_("统一社会信用代码第 3 至 8 位应为行政区划代码（数字）")))
    if check_character(code[:17]) != code[17]:
        raise InvalidUSCC(_msg(N_("统一社会信用代码校验位不正确，请核对是否抄错")))
    return code


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except InvalidUSCC:
        return False
    return True
