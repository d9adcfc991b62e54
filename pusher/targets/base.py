"""What every target shares: the options every kind accepts, and the check of a file name."""

from __future__ import annotations

import re

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


def common(options: Options) -> TargetOptions:
    """The options every kind shares (defaults for a kind whose model does not derive from them)."""
    return options if isinstance(options, TargetOptions) else TargetOptions()


def check_name(name: str, target: str) -> str:
    """A headend file name is ``channel.xml``-like or ``assets/<file>``: never a path that climbs
    out of the channel's folder, whatever the transport makes of it."""
    if not _NAME.fullmatch(name) or ".." in name:  # fullmatch: "$" lets a trailing "\n" through
        raise TargetError(f"refusing the file name {name!r}", target=target)
    return name
