"""Configuration: one TOML file, validated into frozen settings objects.

Found with ``--config PATH`` or ``$PUSHER_CONFIG``. Errors name the bad key
(``sources[1].interval: …``). Any string value written as ``${NAME}`` is read from the
environment, so that passwords and tokens need not be in the file. Relative paths are relative
to the config file. Every key is documented in ``config/tvpusher.example.toml`` and the README.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from pusher.config.base import Options
from pusher.config.base import SettingsModel as _Model
from pusher.config.broadcast import BroadcastSettings
from pusher.config.columns import ColumnSettings
from pusher.config.daemon import DaemonSettings
from pusher.config.http import HttpSettings
from pusher.errors import ConfigError
from pusher.gate.settings import GateSettings
from pusher.interfaces import SourceSpec
from pusher.registry import SOURCES, TARGETS
from renderers.settings import RenderSettings

__all__ = [
    "ChannelSettings",
    "ColumnSettings",
    "HttpSettings",
    "Settings",
    "SourceSettings",
    "TargetSettings",
    "load_settings",
    "parse_settings",
]

ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class ChannelSettings(_Model):
    name: str = "数字电视政务频道"
    profile: Literal["sd", "hd", "fhd"] = "hd"
    timezone: str = "Asia/Shanghai"
    workdir: Path = Path("var")
    database: str = ""  # default: sqlite in workdir
    # PostgreSQL only: the schema holding this channel's tables, so that the channels of one
    # deployment share a database (a [channels.<name>] without a database of its own gets one
    # named after it). "": the URL's own search_path.
    database_schema: str = Field(default="", pattern=r"^([A-Za-z_][A-Za-z0-9_\-]{0,62})?$")
    publish_interval: int = Field(default=60, ge=5)  # seconds between publish/delivery rounds
    # Where files every node reads live besides channel.workdir/assets (issue 19): "auto" is the
    # database when it is PostgreSQL (nodes need no shared disk), only the folder on SQLite.
    assets: Literal["auto", "folder", "database"] = "auto"

    @property
    def database_url(self) -> str:
        url = self.database or f"sqlite:///{self.workdir / 'tvpusher.db'}"
        return with_schema(url, self.database_schema) if self.database_schema and url.startswith("postgresql") else url

    @property
    def assets_dir(self) -> Path:
        return self.workdir / "assets"


class SourceSettings(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    kind: str
    url: str
    column: str
    interval: int = Field(default=300, ge=10)
    recheck: int | None = Field(default=None, ge=60)  # seconds between re-reads of a known detail page; None: 6 h
    enabled: bool = True
    hosts: tuple[str, ...] = ()  # extra hosts that links and redirects may go to
    options: dict[str, Any] = Field(default_factory=dict)

    def validated_options(self) -> Options:
        return SOURCES.validate_options(self.kind, self.options)

    def spec(self) -> SourceSpec:
        """What an adapter is built from: it needs no more of the configuration than this."""
        return SourceSpec(self.name, self.url, self.hosts)


class TargetSettings(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    kind: str
    enabled: bool = True
    options: dict[str, Any] = Field(default_factory=dict)


class ChannelRenderSettings(RenderSettings):
    """``[render]``: the renderer's own settings plus what the render stage does with its pages."""

    # Pages one item may take on air: a 5 MB report would otherwise fill the carousel (7,499
    # pages, a 27-minute cycle). Past it, the last page sends the viewer to the portal (QR code).
    max_pages: int = Field(default=30, ge=2, le=10_000)
    # Processes that draw a backlog of items (pusher.stages.render_pool): 0 = the CPUs this
    # process may use (its affinity mask), 1 = draw in the stage's own process only.
    workers: int = Field(default=0, ge=0, le=256)


class Settings(_Model):
    channel: ChannelSettings = ChannelSettings()
    columns: tuple[ColumnSettings, ...] = ()
    sources: tuple[SourceSettings, ...] = ()
    targets: tuple[TargetSettings, ...] = ()
    http: HttpSettings = HttpSettings()
    render: ChannelRenderSettings = ChannelRenderSettings()
    gate: GateSettings = GateSettings()
    daemon: DaemonSettings = DaemonSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    path: Path | None = None  # the file it was read from

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, v: tuple[ColumnSettings, ...]) -> tuple[ColumnSettings, ...]:
        _unique([c.id for c in v], "column id")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        _unique([s.name for s in self.sources], "source name")
        _unique([t.name for t in self.targets], "target name")
        ids = {c.id for c in self.columns}
        for s in self.sources:
            if s.column not in ids:
                raise ValueError(
                    f"source {s.name!r}: column {s.column!r} is not one of the [[columns]] ({', '.join(sorted(ids)) or 'none defined'})"
                )
        return self

    def source(self, name: str) -> SourceSettings:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named {name!r} (have: {', '.join(s.name for s in self.sources) or 'none'})", key="sources")

    def target(self, name: str) -> TargetSettings:
        for t in self.targets:
            if t.name == name:
                return t
        raise ConfigError(f"no target named {name!r} (have: {', '.join(t.name for t in self.targets) or 'none'})", key="targets")

    def column(self, cid: str) -> ColumnSettings:
        for c in self.columns:
            if c.id == cid:
                return c
        raise ConfigError(f"no column {cid!r}", key="columns")


def with_schema(url: str, schema: str) -> str:
    """The PostgreSQL URL with ``schema`` first on its search_path (``public`` after it, where the
    extensions live); other libpq ``options`` of the URL are kept."""
    from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "options"]
    given = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k == "options"]
    options = " ".join([*given, f'-csearch_path="{schema}",public'])
    return urlunsplit(parts._replace(query=urlencode([*query, ("options", options)], quote_via=quote)))


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)


def _expand_env(value: Any, key: str, required: bool = True) -> Any:
    if isinstance(value, str):
        m = ENV_REF.match(value)
        if m:
            try:
                return os.environ[m.group(1)]
            except KeyError:
                if not required:
                    return value
                raise ConfigError(f"environment variable {m.group(1)} is not set", key=key) from None
        return value
    if isinstance(value, dict):
        # A disabled target is never connected to: its ${PASSWORD} may be unset (the example
        # config ships one), so the reference stays as written.
        off = required and key.startswith("targets[") and value.get("enabled") is False
        return {k: _expand_env(v, f"{key}.{k}" if key else k, required and not off) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, f"{key}[{i}]", required) for i, v in enumerate(value)]
    return value


def _resolve_paths(raw: dict[str, Any], base: Path) -> None:
    chan = raw.setdefault("channel", {})
    if "workdir" in chan and not Path(chan["workdir"]).is_absolute():
        chan["workdir"] = str(base / chan["workdir"])
    elif "workdir" not in chan:
        chan["workdir"] = str(base / "var")
    for t in raw.get("targets", []):
        opts = t.get("options", {})
        if isinstance(opts, dict) and isinstance(opts.get("path"), str) and not Path(opts["path"]).is_absolute():
            opts["path"] = str(base / opts["path"])
    gate = raw.get("gate", {})
    if isinstance(gate, dict) and isinstance(gate.get("keyword_files"), list):
        gate["keyword_files"] = [f if Path(f).is_absolute() else str(base / f) for f in gate["keyword_files"]]


def parse_settings(raw: dict[str, Any], base: Path, path: Path | None = None) -> Settings:
    if "channels" in raw:
        raise ConfigError("this file holds several channels: read it with pusher.config.channels.load_channels "
                          "(the commands: --channel NAME)", key="channels")  # fmt: skip
    raw = _expand_env(raw, "")
    _resolve_paths(raw, base)
    try:
        settings = Settings.model_validate({**raw, "path": path})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown setting"
        raise ConfigError(msg, key=loc or None) from None
    # Options are validated by the registered implementation they configure.
    for i, s in enumerate(settings.sources):
        try:
            s.validated_options()
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 1)[-1], key=f"sources[{i}].{exc.key}") from None
    for i, t in enumerate(settings.targets):
        try:
            TARGETS.validate_options(t.kind, t.options)
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 1)[-1], key=f"targets[{i}].{exc.key}") from None
    return settings


def load_settings(path: str | Path | None = None, channel: str | None = None) -> Settings:
    """The settings of a one-channel file, or of the ``channel`` named in a file of several
    (:mod:`pusher.config.channels`)."""
    p, raw = read_toml(path)
    if "channels" in raw or channel is not None:
        from pusher.config.channels import parse_deployment

        return parse_deployment(raw, p.resolve().parent, p.resolve()).get(channel).settings
    return parse_settings(raw, p.resolve().parent, p.resolve())


def read_toml(path: str | Path | None) -> tuple[Path, dict[str, Any]]:
    path = path or os.environ.get("PUSHER_CONFIG")
    if not path:
        raise ConfigError("no configuration: pass --config PATH or set PUSHER_CONFIG (`pusher demo` needs none)")
    p = Path(path)
    try:
        return p, tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {p} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from None
