"""The sensitive-information gate: screens every item before it can be rendered.

``build_gate(settings).screen(doc)`` returns a :class:`~pusher.interfaces.Screening`: the
strongest action of the findings (block > hold > mask > pass), the findings (offsets into
:func:`screened_text`, i.e. ``title + "\\n" + Document.text``), and the document as it may go on
air, masked where the policy masks. Detectors live in :mod:`pusher.gate.detectors`, the policy
and allowlist in :mod:`pusher.gate.settings`.
"""

from __future__ import annotations

from pusher.gate.detectors import DETECTORS, Detector
from pusher.gate.gate import DetectorGate, GateFinding, PassGate, contact_key, screen_with_attachments, strongest
from pusher.gate.settings import DEFAULT_POLICY, GateSettings
from pusher.gate.text import fold, screened_text
from pusher.interfaces import Gate


def build_gate(settings: GateSettings) -> DetectorGate | PassGate:
    """The gate the configuration asks for; a keyword list that cannot be read is a GateError."""
    if not settings.enabled:
        return PassGate()
    rules = settings.rules()
    detectors = [entry.factory(settings) for entry in DETECTORS if rules.get(entry.kind, "off") != "off"]
    return DetectorGate(detectors, rules, settings.allow)


__all__ = [
    "DEFAULT_POLICY",
    "DETECTORS",
    "Detector",
    "DetectorGate",
    "Gate",
    "GateFinding",
    "GateSettings",
    "PassGate",
    "build_gate",
    "contact_key",
    "fold",
    "screen_with_attachments",
    "screened_text",
    "strongest",
]
