"""统一社会信用代码 (GB 32100-2015) validation with real codes and every kind of mistake."""
from __future__ import annotations

import pytest

from services.accounts import uscc

REAL_CODES = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert uscc.validate(code) == code


@pytest.mark.parametrize("raw,expected", [
    (" 91350100m000100y43 ", "91350100M000100Y43"),
    ("9135 0100 M000 100Y 43", "91350100M000100Y43"),
    ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
    ("91350100-M000100Y43", "91350100M000100Y43"),
])
def test_case_spaces_and_full_width_are_normalised(raw, expected):
    assert uscc.validate(raw) == expected


@pytest.mark.parametrize("raw,message", [
    ("", "请填写"),
    ("9135010M000100Y43", "18 位"),
    ("91350100M000100Y431", "18 位"),
    ("91350100M000100I43", "I"),
    ("91350100M000100O43", "O"),
    ("9135010SM000100Y43", "S"),
    ("91350100M000100V43", "V"),
    ("91350100M000100Z43", "Z"),
    ("91350100M000100Y44", "校验位"),
    ("91110000802100433A", "校验位"),
    ("913501A0M000100Y43", "行政区划"),
])
def test_invalid_codes_say_what_is_wrong(raw, message):
    with pytest.raises(uscc.InvalidUSCC) as exc:
        uscc.validate(raw)
    assert message in str(exc.value)


def test_weights_are_powers_of_three_mod_31():
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
