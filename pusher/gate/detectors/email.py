"""E-mail addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pusher.gate.detectors.base import DetectorBase, Match
from pusher.gate.text import fold

# Starts only where a run of address characters starts, so that long ASCII runs stay linear.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9])",
    re.ASCII,
)


class EmailDetector(DetectorBase):
    """E-mail addresses (the allowlist lets the office's public mailboxes through)."""

    name = "email"
    contact = True

    def find(self, text: str) -> Iterator[Match]:
        for m in _EMAIL.finditer(text):
            yield Match(m.start(), m.end())

    def mask(self, matched: str) -> str:
        at = fold(matched).index("@")  # the original may spell it ＠
        keep = 1 if at > 1 else 0
        return matched[:keep] + "*" * (at - keep) + matched[at:]
