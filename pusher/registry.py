"""Name → implementation, so that configuration can say ``kind = "hanweb"``: the one list.

Every source adapter, renderer, push target and gate detector is named here by dotted path
(``"feeds.sources.hanweb:HanwebSource"``) with the dotted path of its options model, and loaded
on first use, like Scrapy's ``FEED_STORAGES``. Implementations are plain classes that import
nothing from this module, so the registry sits below them in the layers and no import cycle
runs through it. Adding an adapter or target is its module plus one line here.

An implementation whose optional dependency is missing is switched off, not fatal (Scrapy's
``NotConfigured``): importing its module raises :class:`ImportError` (or :class:`Unavailable`
with a reason of its own), its entry reports ``unavailable: <reason>``, and only a
configuration that uses it fails, with that reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from pusher.config.base import Options
from pusher.errors import ConfigError
from pusher.interfaces import Renderer, Source, Target

if TYPE_CHECKING:
    from pusher.gate.detectors.base import Detector

T = TypeVar("T")

__all__ = ["DETECTORS", "RENDERERS", "SOURCES", "TARGETS", "Entry", "Options", "Registry", "Unavailable"]


class Unavailable(ImportError):
    """Raised while an implementation's module is imported: it cannot work here (a missing
    library, a missing system tool); the message is the reason shown to the operator."""


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class Entry(Generic[T]):
    what: str
    kind: str
    path: str  # "package.module:Name" of the class (or function) that builds one
    summary: str
    options_path: str = ""  # "package.module:Name" of its Options model; "": it takes none

    @functools.cached_property
    def _loaded(self) -> tuple[Callable[..., T], type[Options]] | str:
        try:
            factory = _resolve(self.path)
            options = _resolve(self.options_path) if self.options_path else Options
        except ImportError as exc:  # Unavailable included
            return str(exc) or f"cannot import {self.path}"
        return factory, options

    @property
    def unavailable(self) -> str | None:
        """Why this implementation cannot be used here, or None when it can."""
        loaded = self._loaded
        return loaded if isinstance(loaded, str) else None

    @property
    def status(self) -> str:
        return f"unavailable: {self.unavailable}" if self.unavailable else "available"

    def _get(self) -> tuple[Callable[..., T], type[Options]]:
        loaded = self._loaded
        if isinstance(loaded, str):
            raise ConfigError(f"{self.what} kind {self.kind!r} is unavailable: {loaded}", key="kind")
        return loaded

    @property
    def factory(self) -> Callable[..., T]:
        return self._get()[0]

    @property
    def options(self) -> type[Options]:
        return self._get()[1]


class Registry(Generic[T]):
    def __init__(self, what: str, entries: dict[str, tuple[str, str, str]]) -> None:
        """``entries``: kind → (factory path, options path or "", one-line summary)."""
        self.what = what
        self._entries: dict[str, Entry[T]] = {
            kind: Entry(what, kind, path, summary, opts) for kind, (path, opts, summary) in entries.items()
        }

    def get(self, kind: str) -> Entry[T]:
        try:
            return self._entries[kind]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise ConfigError(f"unknown {self.what} kind {kind!r} (known: {known})", key="kind") from None

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.kind))

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def kinds(self) -> list[str]:
        return sorted(self._entries)

    def validate_options(self, kind: str, raw: dict[str, Any]) -> Options:
        entry = self.get(kind)
        try:
            return entry.options.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(err["msg"], key=f"options.{loc}" if loc else "options") from None

    def create(self, kind: str, raw_options: dict[str, Any], *args: Any, **kwargs: Any) -> T:
        """``factory(*args, options, **kwargs)`` with the options validated."""
        options = self.validate_options(kind, raw_options)
        return self.get(kind).factory(*args, options, **kwargs)


_S = "feeds.sources."
SOURCES: Registry[Source] = Registry(
    "source",
    {
        "hanweb": (
            _S + "hanweb:HanwebSource",
            _S + "hanweb:HanwebOptions",
            "Hanweb jcms columns: <datastore> records + dataproxy.jsp pages",
        ),
        "html": (_S + "html:HtmlSource", _S + "html:HtmlOptions", "generic HTML list + detail pages picked by XPath"),
        "rss": (_S + "rss:RssSource", _S + "rss:RssOptions", "RSS 2.0 / Atom feeds (item pages read when reachable)"),
        "trs": (_S + "trs:TrsSource", _S + "trs:TrsOptions", "TRS WCM lists (index.html, index_N.html) and t{date}_{id}.html articles"),
    },
)

#: ``factory(profile_name, render_settings, images=loader)``.
RENDERERS: Registry[Renderer] = Registry(
    "renderer",
    {"tv": ("renderers.tv:make_renderer", "", "Pillow pages for SD/HD/FHD televisions")},
)

_T = "pusher.targets."
TARGETS: Registry[Target] = Registry(
    "target",
    {
        "folder": (_T + "folder:FolderTarget", _T + "folder:FolderOptions", "a local or mounted drop folder"),
        "ftp": (_T + "ftp:FtpTarget", _T + "ftp:FtpOptions", "an FTP or FTPS headend (STOR, SIZE, RNFR/RNTO)"),
        "webdav": (_T + "webdav:WebDavTarget", _T + "webdav:WebDavOptions", "an HTTP/WebDAV headend (PUT, MOVE, DELETE)"),
    },
)

#: ``factory(gate_settings)``; kinds are the names the gate policy uses.
_D = "pusher.gate.detectors."
DETECTORS: Registry[Detector] = Registry(
    "detector",
    {
        "bank_card": (
            _D + "bankcard:BankCardDetector",
            "",
            "Bank card numbers: 16–19 digits, a card issuer prefix and a valid Luhn check digit.",
        ),
        "content": (
            _D + "content:ContentCheckDetector",
            "",
            "The inspection's content checks: near misses of proper nouns, typos, outdated terms.",
        ),
        "classification": (
            _D + "classification:ClassificationDetector",
            "",
            "Classification marks (绝密/机密/秘密 with ★ and period) and 内部资料, 此件不公开 and the like.",
        ),
        "email": (_D + "email:EmailDetector", "", "E-mail addresses (the allowlist lets the office's public mailboxes through)."),
        "id_card": (_D + "idcard:IdCardDetector", "", "Resident ID numbers: 18 digits (region, birth date, check digit) or the old 15."),
        "keyword": (_D + "keywords:KeywordDetector", "", "Words and phrases from the keyword list files (Aho–Corasick)."),
        "landline": (_D + "phone:LandlineDetector", "", "Fixed-line numbers with an area code: 0579-87101077, (010)12345678."),
        "mobile": (_D + "phone:MobileDetector", "", "Mobile numbers 1[3-9]xxxxxxxxx, with +86, spaces or dashes."),
        "person_name": (_D + "names:PersonNameDetector", "", "Private persons' names in the same sentence or table row as personal data."),
    },
)
