"""Portal source adapters. Each module registers itself on :data:`pusher.registry.SOURCES`."""

from . import html  # noqa: F401
