"""What a detector is (the registry that names them is :data:`pusher.registry.DETECTORS`).

A detector finds spans in the *folded* text (see :func:`pusher.gate.text.fold`: same length as
the original, full-width forms made ASCII) and knows how to mask what it found without changing
its length. It decides nothing: the policy maps its name to an action.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pusher.gate.text import char_fold

if TYPE_CHECKING:
    from pusher.gate.settings import GateSettings


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    note: str = ""  # what the reviewer is told about it ("check digit wrong", "labelled 卡号, fails Luhn")


class Detector(Protocol):
    name: str
    #: Contact data (phones, e-mails): the allowlist of public office contacts applies.
    contact: bool

    def find(self, text: str) -> Iterator[Match]:
        """Spans of ``text`` (folded) that hold what this detector looks for."""
        ...

    def mask(self, matched: str) -> str:
        """``matched`` with the sensitive part hidden; same length, and found no more."""
        ...

    def refresh(self) -> bool:
        """Reload what the detector reads from disk if it changed (keyword lists); True if it did."""
        ...


class DetectorBase:
    """What most detectors share: built from the gate settings (most ignore them), no files to
    reload. Subclassing it is optional; the registry (:data:`pusher.registry.DETECTORS`) calls
    ``cls(settings)``."""

    contact = False

    def __init__(self, settings: GateSettings | None = None) -> None:
        pass

    def refresh(self) -> bool:
        return False


def mask_digits(s: str, head: int, tail: int) -> str:
    """Replace the digits (and ``X``) of ``s`` with ``*``, keeping the first ``head`` and the
    last ``tail`` of them; separators stay where they are."""
    # Per character, so that a math-bold or Arabic-Indic digit is hidden like an ASCII one and an
    # invisible character between the digits keeps its place.
    positions = [i for i, c in enumerate(s) if char_fold(c) in "0123456789Xx"]
    hide = set(positions[head : len(positions) - tail if tail else None])
    return "".join("*" if i in hide else c for i, c in enumerate(s))


def mask_all(s: str) -> str:
    """Every visible character hidden: full-width ``＊`` for CJK so the line keeps its width."""
    return "".join(c if c.isspace() else ("＊" if ord(c) > 0x2E7F else "*") for c in s)


def is_digit_boundary(text: str, start: int, end: int, *, grouped: bool = False) -> bool:
    """No ASCII letter or digit glued to either side of ``text[start:end]``, no mask ``*``
    (the tail of 410481********0953 is not a number of its own), no dash joining it to a code
    before it (YK2015-0842 …); with ``grouped``, a number written in groups ("6222 0212 …")
    must not be a piece of a longer run of groups."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if (before.isascii() and before.isalnum()) or before == "*":
        return False
    if (after.isascii() and after.isalnum()) or after == "*":
        return False
    if before == "-" and start > 1 and text[start - 2].isascii() and text[start - 2].isalnum():
        return False
    # A plain number may sit next to another in a list ("0579-87101077 13812345678").
    if not grouped or not any(c in " -" for c in text[start:end]):
        return True
    if before in " -" and start > 1 and text[start - 2].isdigit():
        return False
    return not (after in " -" and end + 1 < len(text) and text[end + 1].isdigit())
