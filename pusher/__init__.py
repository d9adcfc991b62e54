"""tvpusher: a government portal on the digital-TV channel.

The public surface of the library; the CLI (``pusher``) is a thin skin over it::

    from pusher import Runtime, load_settings, stages
    rt = Runtime(load_settings("tvpusher.toml"))
    stages.poll_source(rt, "notices"); stages.screen_items(rt); stages.render_items(rt)
    stages.publish(rt); stages.deliver(rt)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pusher.errors import (
    BodyTooLarge,
    ChallengeError,
    ChannelError,
    ConfigError,
    FetchError,
    FontError,
    GateError,
    ParseError,
    RenderError,
    SourceError,
    StoreError,
    TargetError,
    TvPusherError,
    VerifyError,
)
from pusher.states import ItemState

if TYPE_CHECKING:
    from pusher import stages
    from pusher.config.settings import Settings, load_settings, parse_settings
    from pusher.runtime import Runtime

__version__ = "0.1.0"

__all__ = [
    "BodyTooLarge",
    "ChallengeError",
    "ChannelError",
    "ConfigError",
    "FetchError",
    "FontError",
    "GateError",
    "ItemState",
    "ParseError",
    "RenderError",
    "Runtime",
    "Settings",
    "SourceError",
    "StoreError",
    "TargetError",
    "TvPusherError",
    "VerifyError",
    "__version__",
    "load_settings",
    "parse_settings",
    "stages",
]


#: Loaded on first use: the settings reach the renderer's (and so Pillow), the runtime and the
#: stages every implementation; ``import pusher.errors`` (which runs this file) needs none of it.
_LAZY = {
    "Runtime": ("pusher.runtime", "Runtime"),
    "Settings": ("pusher.config.settings", "Settings"),
    "load_settings": ("pusher.config.settings", "load_settings"),
    "parse_settings": ("pusher.config.settings", "parse_settings"),
    "stages": ("pusher.stages", ""),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    found = import_module(module)
    return getattr(found, attr) if attr else found
