"""Import every implementation package so that the registries are complete."""

from __future__ import annotations

import feeds.sources  # noqa: F401
import pusher.targets  # noqa: F401
import renderers  # noqa: F401
from pusher.registry import RENDERERS, SOURCES, TARGETS

__all__ = ["RENDERERS", "SOURCES", "TARGETS"]
