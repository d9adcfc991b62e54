"""Push targets (headends). Each module registers itself on :data:`pusher.registry.TARGETS`;
a new transport is one module here plus one import line below, and it runs the target contract
tests in ``tests/targets`` by subclassing their abstract class."""

from pusher.targets import folder, ftp, webdav  # noqa: F401
