"""Telephone numbers: private mobiles, and landlines written with their area code."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pusher.gate.detectors.base import DetectorBase, Match, is_digit_boundary, mask_digits

_CC = r"(?:(?:\+|00)?86[ -]?)?"
# Amounts are written with 元/万/亿 after them; a phone number never is.
_NOT_AMOUNT = r"(?!\s*(?:元|万|亿))"
_MOBILE = re.compile(rf"(?<![0-9A-Za-z+])(?:\({_CC}\)|{_CC})1[3-9]\d(?:\d{{8}}|([ -])\d{{4}}\1\d{{4}})(?![0-9A-Za-z]){_NOT_AMOUNT}")
_AREA = r"0(?:10|2\d|[3-9]\d{2})"
_LANDLINE = re.compile(
    rf"(?<![0-9A-Za-z+]){_CC}(?:\({_AREA}\)\s?|{_AREA}[ -]?)[2-9]\d{{6,7}}(?:(?:-|转)\d{{1,5}})?(?![0-9A-Za-z]){_NOT_AMOUNT}"
)


class MobileDetector(DetectorBase):
    """Mobile numbers 1[3-9]xxxxxxxxx, with +86, spaces or dashes."""

    name = "mobile"
    contact = True

    def find(self, text: str) -> Iterator[Match]:
        for m in _MOBILE.finditer(text):
            if is_digit_boundary(text, m.start(), m.end()):
                yield Match(m.start(), m.end())

    def mask(self, matched: str) -> str:
        n = sum(c.isdigit() for c in matched)
        return mask_digits(matched, n - 8, 4)  # 138****5678, whatever prefix came first


class LandlineDetector(DetectorBase):
    """Fixed-line numbers with an area code: 0579-87101077, (010)12345678."""

    name = "landline"
    contact = True

    def find(self, text: str) -> Iterator[Match]:
        for m in _LANDLINE.finditer(text):
            if is_digit_boundary(text, m.start(), m.end()):
                yield Match(m.start(), m.end())

    def mask(self, matched: str) -> str:
        n = sum(c.isdigit() for c in matched)
        return mask_digits(matched, n - 6, 2)  # 0579-87****77
