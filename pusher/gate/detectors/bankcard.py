"""Bank card numbers: 16–19 digits passing the Luhn check, and any number labelled as an account."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pusher.gate.detectors.base import DetectorBase, Match, is_digit_boundary, mask_digits
from pusher.gate.detectors.idcard import id18_shape

_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{16,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{6}([ -])\d{10,13}|\d{4}([ -])\d{4}\3\d{4}\3\d{4}\d{1,3})"
    r"(?![0-9A-Za-z])(?!\s*(?:元|万|亿))"
)
# 卡号：…, 账号：…, 开户账号, 收款账号, 银行账户: whatever the digits, a labelled account number is
# a person's (or an account holder's) account; 8–25 digits, in groups or not.
_LABELLED = re.compile(
    r"(?:卡号|账号|帐号|银行账户|银行帐户|账户号码|帐户号码|折号|存折号)\s*(?:为|是)?\s*[:：]?\s*"
    r"(?<![0-9])(\d[\d -]{6,28}\d)(?![0-9A-Za-z])(?!\s*(?:元|万|亿))"
)
_USCC_LABEL = re.compile(r"(?:信用代码|机构代码|税号|纳税人识别号)[^。；\n]{0,8}$")
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


def _is_uscc(text: str, start: int, digits: str) -> bool:
    """An all-digit 统一社会信用代码, not a card: labelled as one, or a valid code of the
    registration authorities that issue all-digit codes (机构编制 1…, 民政 5…, 工商 9…). A 62…
    UnionPay number that happens to pass the code's check is still a card."""
    if _USCC_LABEL.search(text, max(0, start - 20), start):
        return True
    return uscc_ok(digits) and digits[0] in "159" and digits[1] in "123"


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
        seen: list[tuple[int, int]] = []
        for m in _CARD.finditer(text):
            digits = "".join(c for c in m.group() if c.isdigit())
            if (
                16 <= len(digits) <= 19
                and digits[0] in _ISSUERS
                and luhn_ok(digits)
                and not id18_shape(digits)  # a number shaped like an ID (region, birth date) is reported as an ID
                and not _is_uscc(text, m.start(), digits)
                and is_digit_boundary(text, m.start(), m.end(), grouped=True)
            ):
                seen.append(m.span())
                yield Match(m.start(), m.end(), "Luhn-valid card number")
        for m in _LABELLED.finditer(text):
            start, end = m.span(1)
            raw = m.group(1).rstrip(" -")
            end = start + len(raw)
            digits = "".join(c for c in raw if c.isdigit())
            if len(digits) < 8 or any(s < end and start < e for s, e in seen) or id18_shape(digits):
                continue
            yield Match(start, end, "labelled account number" + ("" if luhn_ok(digits) else ", fails Luhn"))

    def mask(self, matched: str) -> str:
        return mask_digits(matched, 4, 4)
