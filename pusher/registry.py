"""Name → implementation registries, so that configuration can say ``kind = "hanweb"``.

An implementation registers itself with its options model (a pydantic model that validates
the ``[sources.options]``-style table of the config). Adding an adapter, renderer profile or
target is one new module plus one ``register`` line in its package's ``__init__``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from pusher.errors import ConfigError
from pusher.interfaces import Renderer, Source, Target

T = TypeVar("T")


class Options(BaseModel):
    """Base of every implementation's options: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Entry(Generic[T]):
    kind: str
    factory: Callable[..., T]
    options: type[Options]
    summary: str


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, Entry[T]] = {}

    def register(self, kind: str, options: type[Options] = Options, summary: str = "") -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if kind in self._entries:
                raise ValueError(f"{self.what} kind {kind!r} registered twice")
            self._entries[kind] = Entry(kind, factory, options, summary or (factory.__doc__ or "").strip().split("\n")[0])
            return factory

        return deco

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
        from pydantic import ValidationError

        entry = self.get(kind)
        try:
            return entry.options.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(err["msg"], key=f"options.{loc}" if loc else "options") from None


# The registries themselves. Implementations import these and decorate themselves;
# :mod:`pusher.implementations` imports every implementation package so the registries are full.
SOURCES: Registry[Source] = Registry("source")
RENDERERS: Registry[Renderer] = Registry("renderer")
TARGETS: Registry[Target] = Registry("target")
