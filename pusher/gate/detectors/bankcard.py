"""Bank card numbers: 16–19 digits passing the Luhn check."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pusher.gate.detectors.base import DetectorBase, Match, is_digit_boundary, mask_digits
from pusher.gate.detectors.idcard import valid_id18

_CARD = re.compile(r"(?<![0-9A-Za-z])(?:\d{16,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?)(?![0-9A-Za-z])(?!\s*(?:元|万|亿))")
# Issuer prefixes in use: 3 (JCB, Amex), 4 (Visa), 5 (Mastercard), 6 (UnionPay 62…, Discover),
# 9 (old domestic 95… cards). Serial numbers that start with a year (2013…) or 1/0 are not cards.
_ISSUERS = frozenset("34569")


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_ok(code: str) -> bool:
    """An 18-character 统一社会信用代码 (GB 32100) with a valid check character: all-digit ones
    (social organisations 5…, institutions 1…) are published on notices and are not cards."""
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class BankCardDetector(DetectorBase):
    """Bank card numbers: 16–19 digits, a card issuer prefix and a valid Luhn check digit."""

    name = "bank_card"
    contact = False

    def find(self, text: str) -> Iterator[Match]:
        for m in _CARD.finditer(text):
            digits = "".join(c for c in m.group() if c.isdigit())
            if (
                16 <= len(digits) <= 19
                and digits[0] in _ISSUERS
                and luhn_ok(digits)
                and not valid_id18(digits)  # an ID number that happens to pass Luhn is an ID
                and not uscc_ok(digits)
                and is_digit_boundary(text, m.start(), m.end(), grouped=True)
            ):
                yield Match(m.start(), m.end())

    def mask(self, matched: str) -> str:
        return mask_digits(matched, 4, 4)
