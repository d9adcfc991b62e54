"""Keyword lists: plain-text files matched with Aho–Corasick, reloaded when they change.

A list file is UTF-8, one keyword per line; blank lines and lines starting with ``#`` are
ignored. ``keyword_files`` may name files or directories (every ``*.txt`` inside). Before each
screening the detector compares the files' names, sizes and modification times with those it
loaded (a few ``stat`` calls) and rebuilds the automaton when anything changed, so an operator
edits a list and the running daemon uses it on its next item.

A list that cannot be read is a :class:`~pusher.errors.GateError`: the gate fails closed rather
than screening without the words it was told to look for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import ahocorasick

from pusher.errors import GateError
from pusher.gate.detectors.base import DetectorBase, Match, mask_all
from pusher.gate.text import fold

if TYPE_CHECKING:
    from pusher.gate.settings import GateSettings

_LOWER = {cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)}  # ASCII only: keeps lengths


def read_keywords(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GateError(f"keyword list {path} cannot be read: {exc}") from exc
    return [w for w in (line.strip() for line in lines) if w and not w.startswith("#")]


class KeywordDetector(DetectorBase):
    """Words and phrases from the keyword list files (Aho–Corasick)."""

    name = "keyword"
    contact = False

    def __init__(self, settings: GateSettings) -> None:
        self.sources = tuple(settings.keyword_files)
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._automaton: ahocorasick.Automaton | None = None
        self.keywords: frozenset[str] = frozenset()
        self.refresh()

    def files(self) -> list[tuple[Path, int, int]]:
        """Every list file with its mtime and size (os.scandir: a screening pays a few µs)."""
        out: list[tuple[Path, int, int]] = []
        try:
            for src in self.sources:
                if src.is_dir():
                    with os.scandir(src) as it:
                        found = [(Path(e.path), e.stat()) for e in it if e.name.endswith(".txt") and e.is_file()]
                    out.extend((p, st.st_mtime_ns, st.st_size) for p, st in sorted(found))
                elif src.is_file():
                    st = src.stat()
                    out.append((src, st.st_mtime_ns, st.st_size))
                else:
                    raise GateError(f"keyword list {src} does not exist")
        except OSError as exc:
            raise GateError(f"keyword list cannot be read: {exc}") from exc
        return out

    def refresh(self) -> bool:
        """Reload the lists if any file was added, removed or modified; True if it did."""
        stamp = tuple((str(p), mtime, size) for p, mtime, size in self.files())
        files = [Path(p) for p, _, _ in stamp]
        with self._lock:
            if stamp == self._stamp:
                return False
            words = {w for p in files for w in read_keywords(p)}
            automaton = ahocorasick.Automaton()
            for w in words:
                key = fold(w).translate(_LOWER)
                automaton.add_word(key, len(key))
            if words:
                automaton.make_automaton()
            self._automaton = automaton if words else None
            self.keywords = frozenset(words)
            self._stamp = stamp
            return True

    def find(self, text: str) -> Iterator[Match]:
        automaton = self._automaton
        if automaton is None:
            return
        for end, length in automaton.iter(text.translate(_LOWER)):
            yield Match(end + 1 - length, end + 1)

    def mask(self, matched: str) -> str:
        return mask_all(matched)
