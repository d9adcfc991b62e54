"""Push targets (headends), listed in :data:`pusher.registry.TARGETS`.

A new transport is one module here (a plain class taking its name and its options model, a
subclass of :class:`~pusher.targets.base.TargetOptions`) plus one line in the registry, and it
runs the target contract tests in ``tests/targets`` by subclassing their abstract class.
"""
