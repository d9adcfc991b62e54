"""Core commands: run, poll, push, status, check-config, demo."""

from __future__ import annotations

from . import app, out  # noqa: F401
