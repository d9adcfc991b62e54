"""The detectors, one per module, each registered in :data:`DETECTORS` under its stable name.

Adding one is a new module with a class decorated by :func:`register` plus an import line here;
``tests/gate/test_gate_detectors.py`` runs the detector contract on every registered one.
"""

from __future__ import annotations

from pusher.gate.detectors import bankcard, classification, email, idcard, keywords, phone  # noqa: F401  (registration)
from pusher.gate.detectors.base import DETECTORS, Detector, Match, register

__all__ = ["DETECTORS", "Detector", "Match", "register"]
