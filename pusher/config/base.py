"""Base of every settings model: frozen, and unknown keys are errors that name the key.

A leaf: implementations (feeds, renderers, targets) import :class:`Options` from here, not from
the loader or the registry, so that neither has to be loaded to define an adapter.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Options(SettingsModel):
    """Base of every implementation's options: unknown keys are errors, not silently ignored."""
