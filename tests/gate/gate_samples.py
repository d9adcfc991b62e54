"""Valid and look-alike numbers for the gate tests (computed, so they are right by construction)."""

from __future__ import annotations

from pusher.gate.detectors.bankcard import luhn_ok
from pusher.gate.detectors.idcard import check_digit


def id18(first17: str = "33078419900307123") -> str:
    return first17 + check_digit(first17)


def card(prefix: str = "622202123456789012") -> str:
    """``prefix`` plus the Luhn check digit."""
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError("unreachable")


ID = id18()  # 330784199003071234-ish, valid
ID_X = next(id18(f"1101051949123100{n}") for n in range(10) if id18(f"1101051949123100{n}").endswith("X"))
ID15 = "330784900307123"
CARD16 = card("622848001234567")
CARD19 = card("621700123456789012")
