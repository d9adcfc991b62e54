"""Resident identity card numbers (GB 11643): 18 digits with check digit, and the old 15."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from pusher.gate.detectors.base import DetectorBase, Match, is_digit_boundary, mask_digits

# GB/T 2260 province-level prefixes; 71 Taiwan, 81/82/83 residence permits (HK, Macau, Taiwan).
PROVINCES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# Plain, or in groups 6-8-4 / 6-4-4-4 with one kind of separator.
# Amounts are written with 元/万/亿 after them; an ID number never is.
_ID18 = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{6}([ -])\d{8}\1\d{3}[\dXx]|\d{6}([ -])\d{4}\2\d{4}\2\d{3}[\dXx])(?![0-9A-Za-z])(?!\s*(?:元|万|亿))"
)
_ID15 = re.compile(r"(?<![0-9A-Za-z])(?:\d{15}|\d{6}([ -])\d{6}\1\d{3})(?![0-9A-Za-z])(?!\s*(?:元|万|亿))")


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _birth_ok(y: int, m: int, d: int) -> bool:
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def id18_shape(digits: str) -> bool:
    """An ID number by shape and meaning: 17 digits and a digit or X, a province-level region
    with a city and county code, and a real birth date between 1900 and today. The check digit
    is not asked: a mistyped one still exposes a person's region and birth date."""
    if len(digits) != 18 or not digits[:17].isdigit() or digits[17] not in "0123456789Xx":
        return False
    if int(digits[:2]) not in PROVINCES or digits[2:6] == "0000":
        return False
    return _birth_ok(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))


def valid_id18(digits: str) -> bool:
    """``digits``: 17 digits and a check character, no separators; the check digit right."""
    return id18_shape(digits) and check_digit(digits[:17]) == digits[17].upper()


def valid_id15(digits: str) -> bool:
    """Old 15-digit numbers (issued until 1999): no check digit, a 19YYMMDD birth date."""
    if len(digits) != 15 or not digits.isdigit() or int(digits[:2]) not in PROVINCES or digits[2:6] == "0000":
        return False
    return _birth_ok(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))


# Old business registration numbers (注册号) are 15 digits too, region first, and their digits
# 7–12 often read as a date ("3307846001…"): a 15-digit number labelled as one is not an ID.
_REGISTRATION = re.compile(r"(?:注册号|注册码|执照号?|登记号)[码]?\s*[:：]?\s*$")
# Codes of the same length that carry a region and sometimes a date-like run: 统一社会信用代码
# (institutions 12…, social organisations 51…), 组织机构代码, order and contract numbers. Their
# label says what they are; an ID label nearer the number wins.
_NOT_ID_LABEL = re.compile(
    r"(?:信用代码|机构代码|组织代码|税号|纳税人识别号|注册号|登记号|订单号|订单编号|合同号|合同编号|流水号|交易号|单号|批号|备案号|证书编号|项目编号|标识码)"
    r"[^。；\n身证]{0,8}$"
)


def _digits(s: str) -> str:
    return "".join(c for c in s if c not in " -")


def labelled_not_id(text: str, start: int) -> bool:
    return bool(_NOT_ID_LABEL.search(text, max(0, start - 20), start))


class IdCardDetector(DetectorBase):
    """Resident ID numbers by shape: region and birth date (18 digits, any check digit) or the old 15."""

    name = "id_card"
    contact = False

    def find(self, text: str) -> Iterator[Match]:
        for rx, valid in ((_ID18, id18_shape), (_ID15, valid_id15)):
            for m in rx.finditer(text):
                digits = _digits(m.group())
                if not valid(digits) or not is_digit_boundary(text, m.start(), m.end(), grouped=True):
                    continue
                if rx is _ID15 and _REGISTRATION.search(text, max(0, m.start() - 12), m.start()):
                    continue
                if labelled_not_id(text, m.start()):
                    continue
                if rx is _ID18 and check_digit(digits[:17]) != digits[17].upper():
                    # The reviewer is told: a mistyped or made-up number, still a person's region and birth date.
                    yield Match(m.start(), m.end(), "check digit wrong")
                else:
                    yield Match(m.start(), m.end(), "check digit right" if rx is _ID18 else "old 15-digit number")

    def mask(self, matched: str) -> str:
        # Region and last four stay, as in 330784********1234: the masked form people expect.
        n = len(_digits(matched))
        return mask_digits(matched, 6, 4 if n == 18 else 3)
