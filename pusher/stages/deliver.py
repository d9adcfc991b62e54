"""Deliver the newest channel version to each target (see :mod:`pusher.stages.outbox`)."""

from pusher.stages.outbox import DeliveryReport, deliver

__all__ = ["DeliveryReport", "deliver"]
