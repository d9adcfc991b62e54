"""Several channels in one configuration file: a province's counties served by one deployment.

A file without ``[channels.<name>]`` tables is one channel, read as it always was. A file with
them holds shared defaults at the top level (any key of a one-channel file) and one table per
channel, itself a partial one-channel configuration merged over the defaults: tables merge key
by key, arrays of tables (``[[sources]]``, ``[[columns]]``, ``[[targets]]``) and lists replace
the defaults' whole. Each merged table is validated as a one-channel file is, so a channel is a
plain :class:`~pusher.config.settings.Settings` and every stage works on it unchanged::

    [channel]
    database = "postgresql://tvpusher@db/tvpusher"   # shared: each channel gets a schema of its own
    [daemon]                                          # one process serves every channel
    node = "node-a"

    [channels.yongkang.channel]
    name = "永康政务"
    [[channels.yongkang.columns]]
    …

What keeps channels apart is defaulted, never shared by accident: a channel's ``workdir`` is
``<workdir>/<name>`` unless it sets one, and a channel that shares the defaults' PostgreSQL
database gets the schema ``<name>``. Two channels on one workdir, one database (and schema) or
one headend folder or URL are an error naming both. ``[daemon]`` is the process's and may only
be set at the top level.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pusher.config.settings import Settings, parse_settings, read_toml
from pusher.errors import ConfigError

__all__ = ["Channel", "Deployment", "load_channels", "parse_deployment"]

CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
#: Sections of the process, not of a channel.
PROCESS_ONLY = ("daemon",)


@dataclass(frozen=True)
class Channel:
    """One channel of a deployment: ``name`` is its ``[channels.<name>]`` key ("" for a one-channel file)."""

    name: str
    settings: Settings


@dataclass(frozen=True)
class Deployment:
    channels: tuple[Channel, ...]
    path: Path | None = None

    @property
    def several(self) -> bool:
        """True for a file of ``[channels.<name>]`` tables (even one): commands then name a channel."""
        return bool(self.channels[0].name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.channels]

    @property
    def daemon(self) -> Any:  # DaemonSettings: the same in every channel (top level only)
        return self.channels[0].settings.daemon

    def get(self, name: str | None) -> Channel:
        """The channel called ``name``; for a one-channel file, its channel when ``name`` is None."""
        if not self.several:
            if name is not None:
                raise ConfigError(f"this configuration holds one channel (no [channels.<name>] tables): there is no channel {name!r}",
                                  key="channels")  # fmt: skip
            return self.channels[0]
        if name is None:
            have = ", ".join(self.names)
            raise ConfigError(f"this configuration holds {len(self.channels)} channels ({have}): choose one with --channel NAME",
                              key="channels")  # fmt: skip
        for c in self.channels:
            if c.name == name:
                return c
        raise ConfigError(f"no channel named {name!r} (have: {', '.join(self.names)})", key="channels")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on ``base``: tables merge key by key, anything else (arrays included) replaces."""
    merged = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = _merge(merged[k], v)
        else:
            merged[k] = copy.deepcopy(v)
    return merged


def _channel_raw(name: str, defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    for section in PROCESS_ONLY:
        if section in own:
            raise ConfigError("one process serves every channel: set it at the top level, not per channel",
                              key=f"channels.{name}.{section}")  # fmt: skip
    raw = _merge(defaults, own)
    chan = raw.setdefault("channel", {})
    own_chan = own.get("channel", {}) if isinstance(own.get("channel"), dict) else {}
    if not isinstance(chan, dict):
        return raw  # the validation names the bad key
    if "workdir" not in own_chan:
        chan["workdir"] = str(Path(str(chan.get("workdir", "var"))) / name)
    # A channel on the defaults' database keeps its tables in a schema of its own (PostgreSQL;
    # a SQLite database lives in the workdir, which is the channel's own already).
    if "database" not in own_chan and "database_schema" not in own_chan and chan.get("database"):
        chan["database_schema"] = name.replace("-", "_")
    return raw


def parse_deployment(raw: dict[str, Any], base: Path, path: Path | None = None) -> Deployment:
    """Every channel of a configuration (one for a file without ``[channels.<name>]``)."""
    if "channels" not in raw:
        return Deployment((Channel("", parse_settings(raw, base, path)),), path)
    tables = raw["channels"]
    if not isinstance(tables, dict) or not tables or not all(isinstance(v, dict) for v in tables.values()):
        raise ConfigError("must be one [channels.<name>] table per channel", key="channels")
    defaults = {k: v for k, v in raw.items() if k != "channels"}
    channels: list[Channel] = []
    for name, own in tables.items():
        if not CHANNEL_NAME.match(name):
            raise ConfigError("a channel's name is 1-64 letters, digits, '_' or '-'", key=f"channels.{name}")
        try:
            settings = parse_settings(_channel_raw(name, defaults, own), base, path)
        except ConfigError as exc:
            if exc.key and exc.key.startswith(f"channels.{name}"):
                raise
            where = f"channels.{name}" + (f".{exc.key}" if exc.key else "")
            raise ConfigError(str(exc).split(": ", 1)[-1] if exc.key else str(exc), key=where) from None
        channels.append(Channel(name, settings))
    _apart(channels)
    return Deployment(tuple(channels), path)


def _apart(channels: list[Channel]) -> None:
    """Two channels on one store, cache or headend would overwrite each other's channel."""
    seen: dict[tuple[str, str], str] = {}

    def claim(what: str, value: str, key: str, name: str) -> None:
        other = seen.setdefault((what, value), name)
        if other != name:
            raise ConfigError(f"channels {other!r} and {name!r} share one {what}: give each its own", key=f"channels.{name}.{key}")

    for c in channels:
        ch = c.settings.channel
        claim("workdir", str(ch.workdir.resolve()), "channel.workdir", c.name)
        claim("database", ch.database_url, "channel.database", c.name)
        for t in c.settings.targets:
            if not t.enabled:
                continue
            if t.kind == "folder" and isinstance(t.options.get("path"), str):
                claim("headend folder", str(Path(t.options["path"]).resolve()), "targets", c.name)
            elif isinstance(t.options.get("url"), str):
                claim("headend URL", t.options["url"].rstrip("/"), "targets", c.name)


def load_channels(path: str | Path | None = None) -> Deployment:
    """Every channel of the file at ``path`` (or ``$PUSHER_CONFIG``)."""
    p, raw = read_toml(path)
    return parse_deployment(raw, p.resolve().parent, p.resolve())
