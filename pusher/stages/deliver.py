"""Deliver the newest channel version to each target (see :mod:`pusher.outbox`)."""

from pusher.outbox import DeliveryReport, deliver

__all__ = ["DeliveryReport", "deliver"]
