"""What every target shares: the options every kind accepts, and the check of a file name."""

from __future__ import annotations

import re

from pydantic import Field

from pusher.errors import TargetError
from pusher.registry import Options

DEFAULT_GRACE_HOURS = 24.0
_NAME = re.compile(r"^(?:assets/)?[A-Za-z0-9_][A-Za-z0-9_.\-]*$|^\.[A-Za-z0-9_.\-]+\.tmp$")


class TargetOptions(Options):
    """Options of every target kind (each kind's model derives from this one)."""

    # Boxes still hold the previous manifest for a while: an asset no manifest references any
    # more is deleted from the headend only after this many hours.
    grace_hours: float = Field(default=DEFAULT_GRACE_HOURS, ge=0)


def grace_hours(options: Options) -> float:
    return options.grace_hours if isinstance(options, TargetOptions) else DEFAULT_GRACE_HOURS


def check_name(name: str, target: str) -> str:
    """A headend file name is ``channel.xml``-like or ``assets/<file>``: never a path that climbs
    out of the channel's folder, whatever the transport makes of it."""
    if not _NAME.match(name) or ".." in name:
        raise TargetError(f"refusing the file name {name!r}", target=target)
    return name
