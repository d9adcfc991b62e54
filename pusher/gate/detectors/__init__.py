"""The detectors, one per module, each listed in :data:`pusher.registry.DETECTORS` under its
stable name (the name the gate policy uses).

Adding one is a new module with a class (subclassing :class:`DetectorBase` is the short way)
plus its line in the registry; ``tests/gate/test_gate_detectors.py`` runs the detector contract
on every registered one.
"""

from __future__ import annotations

from pusher.gate.detectors.base import Detector, DetectorBase, Match
from pusher.registry import DETECTORS

__all__ = ["DETECTORS", "Detector", "DetectorBase", "Match"]
