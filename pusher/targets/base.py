"""What every target shares: the options every kind accepts, and the check of a file name."""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

from pydantic import Field

from pusher.config.base import Options
from pusher.errors import TargetError

DEFAULT_GRACE_HOURS = 24.0
_NAME = re.compile(r"^(?:assets/)?[A-Za-z0-9_][A-Za-z0-9_.\-]*$|^\.[A-Za-z0-9_.\-]+\.tmp$")


class TargetOptions(Options):
    """Options of every target kind (each kind's model derives from this one)."""

    # Boxes still hold the previous manifest for a while: an asset no manifest references any
    # more is deleted from the headend only after this many hours.
    grace_hours: float = Field(default=DEFAULT_GRACE_HOURS, ge=0)
    # List the headend before each manifest, so that a page removed behind our back is sent
    # again before a manifest points at it. One listing costs about 400 bytes per asset
    # downloaded; on a slow link with a large channel, turn it off and run `pusher verify`.
    precheck: bool = True


@runtime_checkable
class Staging(Protocol):
    """A target that can make many files durable at once, which is far cheaper than one by one
    (a folder: one sync of the batch instead of an fsync per file). The outbox stages the
    assets of a delivery and commits them before it records them as delivered, and
    ``publish_manifest`` commits whatever is staged first: a manifest never points at an asset
    that is not durably under its name. Not part of :class:`pusher.interfaces.Target`: a target
    without it has every ``put`` durable on its own."""

    def stage(self, name: str, data: bytes) -> None:
        """Like ``put``, but the file is under its name only once ``commit`` returns."""
        ...

    def commit(self) -> None:
        """Every staged file durable and under its name; on failure a TargetError, and no staged
        file is left under a temporary name (some may have reached their names, durably)."""
        ...


def common(options: Options) -> TargetOptions:
    """The options every kind shares (defaults for a kind whose model does not derive from them)."""
    return options if isinstance(options, TargetOptions) else TargetOptions()


def check_name(name: str, target: str) -> str:
    """A headend file name is ``channel.xml``-like or ``assets/<file>``: never a path that climbs
    out of the channel's folder, whatever the transport makes of it."""
    if not _NAME.fullmatch(name) or ".." in name:  # fullmatch: "$" lets a trailing "\n" through
        raise TargetError(f"refusing the file name {name!r}", target=target)
    return name
