"""Push targets (headends). Each module registers itself on :data:`pusher.registry.TARGETS`."""

from . import folder  # noqa: F401
