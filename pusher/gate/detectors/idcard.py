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
# Other groupings people type (4-4-4-4-2 as on a card, 3-3-4-4-4, 2-2-2-8-4): one kind of
# separator, exactly 18 characters; read only where the common forms above found nothing.
_ID18_GROUPED = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}\1\d[\dXx]|\d{3}([ -])\d{3}\2\d{4}\2\d{4}\2\d{3}[\dXx]"
    r"|\d{2}([ -])\d{2}\3\d{2}\3\d{8}\3\d{3}[\dXx]|\d{6}([ -])\d{4}\4\d{2}\4\d{2}\4\d{3}[\dXx])(?![0-9A-Za-z])"
)
# A number its label calls an ID (身份证号：…) is one even when its length, date or region is
# mistyped (17 or 19 digits, a 13th month): it is still someone's number, half-exposed.
_ID_LABEL = re.compile(
    r"(?:身份证件?(?:号码|号)?|公民身份号码|身份号码|证件号码?)\s*(?:[:：]|为|是)?\s*(\d[\d -]{12,24}[\dXx])(?![0-9A-Za-z])"
)
_ID_LABEL_NEAR = re.compile(r"(?:身份证|身份号码|证件号)[^。；\n]{0,10}$")
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
    """An ID number by shape and meaning: 17 digits and a digit or X, a province-level region,
    and a real birth date between 1900 and today. The check digit is not asked: a mistyped one
    still exposes a person's region and birth date. A province code with no city and county
    (``330000…``) is taken only with a right check digit: numbers were issued under such codes
    (and under the 市辖区 codes), but an all-digit code is likelier to read so by chance."""
    if len(digits) != 18 or not digits[:17].isdigit() or digits[17] not in "0123456789Xx":
        return False
    if int(digits[:2]) not in PROVINCES:
        return False
    if not _birth_ok(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])):
        return False
    return digits[2:6] != "0000" or check_digit(digits[:17]) == digits[17].upper()


def _id_evidence(text: str, start: int, end: int) -> bool:
    """Written as IDs are (6-8-4, 6-4-4-4) or labelled as one just before."""
    return any(c in " -" for c in text[start:end]) or bool(_ID_LABEL_NEAR.search(text, max(0, start - 16), start))


def id18_shape_any_region(digits: str) -> bool:
    return id18_shape(digits) or (id18_shape(digits[:17] + check_digit(digits[:17])) and digits[17] in "0123456789Xx")


def valid_id18(digits: str) -> bool:
    """``digits``: 17 digits and a check character, no separators; the check digit right."""
    return id18_shape(digits) and check_digit(digits[:17]) == digits[17].upper()


def valid_id15(digits: str, *, labelled: bool = False) -> bool:
    """Old 15-digit numbers (issued until 1999): no check digit, a 19YYMMDD birth date; a
    province-only region (``510000…``) only where a label says it is an ID."""
    if len(digits) != 15 or not digits.isdigit() or int(digits[:2]) not in PROVINCES:
        return False
    if digits[2:6] == "0000" and not labelled:
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
        found: list[tuple[int, int]] = []
        for m in self._shaped(text):
            found.append((m.start, m.end))
            yield m
        for lm in _ID_LABEL.finditer(text):
            start, end = lm.span(1)
            digits = _digits(lm.group(1))
            if any(s < end and start < e for s, e in found) or not 14 <= len(digits) <= 19:
                continue
            if not is_digit_boundary(text, start, end):
                continue
            if len(digits) == 15 and valid_id15(digits, labelled=True):
                yield Match(start, end, "old 15-digit number")
            else:
                yield Match(start, end, f"labelled as an ID, {len(digits)} characters: mistyped or not a valid number")

    def _shaped(self, text: str) -> Iterator[Match]:
        spans: list[tuple[int, int]] = []
        for rx, valid in ((_ID18, id18_shape), (_ID18_GROUPED, id18_shape), (_ID15, valid_id15)):
            for m in rx.finditer(text):
                if any(s < m.end() and m.start() < e for s, e in spans):
                    continue
                digits = _digits(m.group())
                if not valid(digits) or not is_digit_boundary(text, m.start(), m.end(), grouped=True):
                    # A province-only region (130000…) with a wrong check digit is still an ID
                    # where the spelling or a label says so.
                    if not (rx is not _ID15 and id18_shape_any_region(digits) and _id_evidence(text, m.start(), m.end())):
                        continue
                    if not is_digit_boundary(text, m.start(), m.end(), grouped=True):
                        continue
                if rx is _ID15 and _REGISTRATION.search(text, max(0, m.start() - 12), m.start()):
                    continue
                if labelled_not_id(text, m.start()):
                    continue
                spans.append(m.span())
                if rx is not _ID15 and check_digit(digits[:17]) != digits[17].upper():
                    # The reviewer is told: a mistyped or made-up number, still a person's region and birth date.
                    yield Match(m.start(), m.end(), "check digit wrong")
                else:
                    yield Match(m.start(), m.end(), "check digit right" if rx is not _ID15 else "old 15-digit number")

    def mask(self, matched: str) -> str:
        # Region and last four stay, as in 330784********1234: the masked form people expect.
        n = len(_digits(matched))
        return mask_digits(matched, 6, 4 if n >= 18 else 3)
