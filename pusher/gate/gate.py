"""The gate: run the detectors, apply the policy, mask what the policy masks.

The strongest action of the findings decides the item: block > hold > mask > pass.
Allowlisted contacts and numbers already masked (``330784********1234``) are not findings.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pusher.gate.attachments import Extracted
from pusher.gate.detectors import Detector
from pusher.gate.settings import Rule
from pusher.gate.text import fold, normalize, rebuild, screened_text
from pusher.interfaces import Action, Document, Finding, Screening


@dataclass(frozen=True)
class GateFinding(Finding):
    """A finding with what the reviewer is told about it, and where it is: ``source`` is ``""``
    for the item's own text (offsets into :func:`screened_text`), else the attachment's name
    (offsets into the attachment's extracted text)."""

    note: str = ""
    source: str = ""


ORDER = (Action.PASS, Action.MASK, Action.HOLD, Action.BLOCK)
_ACTION: dict[Rule, Action] = {
    "pass": Action.PASS,
    "mask": Action.MASK,
    "hold": Action.HOLD,
    "mask+hold": Action.HOLD,
    "block": Action.BLOCK,
}
_MASKS: frozenset[Rule] = frozenset({"mask", "mask+hold"})


def strongest(actions: Iterable[Action]) -> Action:
    return max(actions, key=ORDER.index, default=Action.PASS)


def contact_key(s: str) -> str:
    """What two spellings of one contact have in common: the lower-cased address, or the
    digits of a number without the country code (+86 / 0086 / 86)."""
    s = fold(s).strip()
    if "@" in s:
        return s.lower()
    digits = re.sub(r"\D", "", s)
    for cc in ("0086", "86"):
        if digits.startswith(cc) and len(digits) - len(cc) >= 11:
            return digits[len(cc) :]
    return digits


class DetectorGate:
    def __init__(self, detectors: Sequence[Detector], rules: dict[str, Rule], allow: Iterable[str] = ()) -> None:
        self.detectors = [d for d in detectors if rules.get(d.name, "off") != "off"]
        self.rules = rules
        self.allow = frozenset(contact_key(a) for a in allow)

    def scan(self, text: str, units: Sequence[tuple[int, int]] = (), when: date | None = None) -> list[Finding]:
        """Findings in ``text``, offsets into it, sorted by position. The detectors read the text
        as a viewer will (:func:`normalize`: invisible characters gone, styled digits plain);
        offsets are mapped back. ``units``: spans read as one (a table row), for the detectors
        that look at context (names beside personal data). ``when``: the item's date, for the
        content checks (a formulation outdated since a day, a leader's term that ended)."""
        for d in self.detectors:
            d.refresh()  # keyword lists edited on disk take effect now
        norm = normalize(text)
        if units and norm.origin is not None:
            origin = norm.origin
            units = [(bisect.bisect_left(origin, s), bisect.bisect_left(origin, e)) for s, e in units]
        found: list[Finding] = []
        for d in self.detectors:
            action = _ACTION[self.rules[d.name]]
            if getattr(d, "uses_units", False):
                matches = d.find(norm.text, units=units)  # type: ignore[call-arg]
            elif getattr(d, "uses_date", False):
                matches = d.find(norm.text, when=when)  # type: ignore[call-arg]
            else:
                matches = d.find(norm.text)
            for m in matches:
                start, end = norm.span(m.start, m.end)
                matched = text[start:end]
                if d.contact and contact_key(matched) in self.allow:
                    continue
                found.append(GateFinding(detector=d.name, start=start, end=end, text=matched, action=action, note=m.note))
        found.sort(key=lambda f: (f.start, f.end, f.detector))
        return found

    def mask(self, text: str, findings: Iterable[Finding]) -> str:
        """``text`` with the findings the policy masks hidden (same length)."""
        chars = list(text)
        by_name = {d.name: d for d in self.detectors}
        for f in findings:
            if self.rules[f.detector] in _MASKS:
                # Only the characters this mask hides: where findings overlap (a number listed
                # as a keyword), a mask that keeps digits must not bring back what another hid.
                for i, (was, now) in enumerate(zip(f.text, by_name[f.detector].mask(f.text), strict=True)):
                    if now != was:
                        chars[f.start + i] = now
        return "".join(chars)

    def screen(self, doc: Document) -> Screening:
        text = screened_text(doc)
        findings = self.scan(text, row_units(doc), item_date(doc))
        masked = self.mask(text, findings)
        # rebuild() also drops what no renderer draws (U+180E, styled digits made plain): the
        # aired text is the text the detectors read.
        return Screening(
            action=strongest(f.action for f in findings),
            findings=tuple(findings),
            document=rebuild(doc, masked),
        )


def _attachment_findings(gate: DetectorGate, files: Sequence[tuple[str, bytes | str]]) -> list[Finding]:
    from pusher.gate.attachments import Unreadable, extract

    out: list[Finding] = []
    unreadable = gate.rules.get("attachment", "hold")
    for name, data in files:
        try:
            if isinstance(data, str):
                raise Unreadable(data)  # the fetch failed: its error is the note
            got = extract(name, data)
        except Unreadable as exc:
            if unreadable != "off":
                out.append(GateFinding("attachment", 0, 0, "", _ACTION[unreadable], note=f"unreadable attachment: {exc}", source=name))
            continue
        if got.truncated and unreadable != "off":
            out.append(
                GateFinding("attachment", 0, 0, "", _ACTION[unreadable], note="attachment screened only in part (limits)", source=name)
            )
        found = [*gate.scan(got.text, got.rows), *_header_findings(gate, got)]
        for f in found:
            # An attachment is listed on air, not masked: anything in it the policy would act on holds the item.
            action = f.action if f.action in (Action.PASS, Action.BLOCK) else Action.HOLD
            out.append(GateFinding(f.detector, f.start, f.end, f.text, action, note=getattr(f, "note", ""), source=name))
    return out


def _header_findings(gate: DetectorGate, got: Extracted) -> list[Finding]:
    """Cells under a column header that names them (身份证号码, 银行账号) read as if labelled:
    a rounded number cell (6258071008316720000) fails Luhn, but its column says it is an account."""
    out: list[Finding] = []
    taken = [(f.start, f.end) for f in gate.scan(got.text, got.rows) if f.detector != "person_name"] if got.labelled else []
    for start, end, header in got.labelled:
        if any(s < end and start < e for s, e in taken):
            continue
        lead = f"{header}："
        for f in gate.scan(lead + got.text[start:end]):
            if f.start >= len(lead) and f.detector != "person_name":
                note = f"under the column {header}" + (f"; {n}" if (n := getattr(f, "note", "")) else "")
                s, e = start + f.start - len(lead), start + f.end - len(lead)
                out.append(GateFinding(f.detector, s, e, got.text[s:e], f.action, note=note))
    return out


def item_date(doc: Document) -> date | None:
    """The day an item speaks from: published, else written (成文日期), else unknown (today)."""
    return doc.published.date() if doc.published else doc.written


def row_units(doc: Document) -> list[tuple[int, int]]:
    """Offsets (into :func:`screened_text`) of every table row: its cells are one unit."""
    units: list[tuple[int, int]] = []
    pos = len(doc.title) + 1
    for b in doc.blocks:
        if b.kind == "table":
            for row in b.rows:
                length = sum(len(c) + 1 for c in row)
                if row:
                    units.append((pos, pos + length - 1))
                pos += length
        else:
            pos += sum(len(t) + 1 for t in b.texts())
    return units


def screen_with_attachments(gate: object, doc: Document, files: Sequence[tuple[str, bytes | str]]) -> Screening:
    """``gate.screen(doc)`` plus the findings of the item's attachments (``files``: name and
    bytes, or name and the error that kept them from being fetched)."""
    verdict: Screening = gate.screen(doc)  # type: ignore[attr-defined]
    if not isinstance(gate, DetectorGate) or not files:
        return verdict
    extra = _attachment_findings(gate, files)
    if not extra:
        return verdict
    findings = (*verdict.findings, *extra)
    return Screening(action=strongest(f.action for f in findings), findings=findings, document=verdict.document)


class PassGate:
    """``[gate] enabled = false``: every document passes unchanged."""

    def screen(self, doc: Document) -> Screening:
        return Screening(action=Action.PASS, findings=(), document=doc)

    def scan(self, text: str, units: Sequence[tuple[int, int]] = (), when: date | None = None) -> list[Finding]:
        return []
