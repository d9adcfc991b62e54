"""Every setting is documented once, where operators look: the README's configuration reference
and config/tvpusher.example.toml (a commented-out line counts). Both are checked against the
settings models and every registered implementation's options model, in both directions: a key
the models have and the documents lack fails, and so does a key the documents name that no
model has.

Keys are spelt ``channel.name``, ``columns.id`` (a ``[[columns]]`` table), ``broadcast.columns.<id>.max_items``
(a table of tables), ``sources.options.<kind>.body_xpath``; an option every kind inherits from a
shared base (``grace_hours`` of every target) is ``targets.options.*.grace_hours``.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from pusher.config.settings import Settings
from pusher.registry import SOURCES, TARGETS, Registry

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLE = ROOT / "config" / "tvpusher.example.toml"

#: Tables whose ``options`` are validated by the implementation their ``kind`` names.
IMPLEMENTATIONS: dict[str, Registry] = {"sources": SOURCES, "targets": TARGETS}
#: Fields of the models that are not settings (the loader fills them in).
NOT_SETTINGS = {"path"}


def _model_in(annotation: object) -> tuple[str, type[BaseModel]] | None:
    """("", M) for a model, ("[]", M) for a tuple of them, ("{}", M) for a table of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "", annotation
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        found = [m for a in args if a is not type(None) and (m := _model_in(a))]
        return found[0] if found else None
    if origin is tuple and args and _model_in(args[0]):
        return "[]", _model_in(args[0])[1]  # type: ignore[index]
    if origin is dict and len(args) == 2 and _model_in(args[1]):
        return "{}", _model_in(args[1])[1]  # type: ignore[index]
    return None


def _inherited(model: type[BaseModel], field: str) -> bool:
    """A field the model has from a base it shares with other kinds (not Options itself)."""
    return field not in inspect.get_annotations(model)


def model_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        if not prefix and name in NOT_SETTINGS:
            continue
        key = f"{prefix}{name}"
        if prefix.count(".") == 1 and prefix.split(".")[0] in IMPLEMENTATIONS and name == "options":
            reg = IMPLEMENTATIONS[prefix.split(".")[0]]
            for entry in reg:
                opts = entry.options
                for f in opts.model_fields:
                    yield f"{key}.{'*' if _inherited(opts, f) else entry.kind}.{f}"
            continue
        nested = _model_in(info.annotation)
        if nested is None:
            yield key
        elif nested[0] == "{}":
            yield from model_keys(nested[1], f"{key}.<id>.")
        else:
            yield from model_keys(nested[1], f"{key}.")


MODEL_KEYS = frozenset(model_keys(Settings))


def _cell_keys(cell: str) -> list[str]:
    return re.findall(r"`([A-Za-z_][\w.<>*]*)`", re.sub(r"\([^)]*\)", "", cell))


def readme_keys() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("### Configuration reference", 1)[1].split("\n### ", 1)[0]
    keys: set[str] = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        first, _default, meaning = (c.strip() for c in line.strip("|").split("|", 2))
        table_of = re.match(r"`\[\[?([\w.<>]+)\]\]?`\s*(.*)", first)
        if table_of is None:
            keys.update(_cell_keys(first))
            continue
        prefix, rest = table_of.group(1), table_of.group(2)
        kind = re.search(r"`options`\s*\((\w+)\)", rest)
        if kind:
            which = "*" if kind.group(1) == "all" else kind.group(1)
            keys.update(f"{prefix}.options.{which}.{k}" for k in _cell_keys(meaning))
        else:
            keys.update(f"{prefix}.{k}" for k in _cell_keys(rest))
    return keys


_LINE = re.compile(r"^#?\s*(?:(?P<section>\[\[?[\w.]+\]\]?)\s*(?:#.*)?|(?P<key>[A-Za-z_]\w*)\s*=\s*(?P<value>.*))$")


def example_keys() -> set[str]:
    keys: set[str] = set()
    section: list[str] = []
    kind = ""
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = _LINE.match(raw.strip())
        if m is None:
            continue
        if m.group("section"):
            parts = m.group("section").strip("[]").split(".")
            if parts[0] == "channels" and len(parts) > 2:
                parts = parts[2:]  # [channels.<name>.x]: the key x of one channel of several
            if m.group("section").startswith("[[") and parts[0] in IMPLEMENTATIONS:
                kind = ""
            section = parts
            continue
        key, value = m.group("key"), m.group("value")
        if section and section[0] in IMPLEMENTATIONS and key == "kind":
            kind = value.split('"')[1] if '"' in value else value
        keys.add(_example_key(section, key, kind))
    return keys


def _example_key(section: list[str], key: str, kind: str) -> str:
    if len(section) == 2 and section[0] in IMPLEMENTATIONS and section[1] == "options":
        opts = IMPLEMENTATIONS[section[0]].get(kind).options
        return f"{section[0]}.options.{'*' if key in opts.model_fields and _inherited(opts, key) else kind}.{key}"
    path = ".".join(section)
    # A table whose keys are free (`[gate.policy]`): the setting is the table.
    if path in MODEL_KEYS:
        return path
    if len(section) == 3 and f"{section[0]}.{section[1]}.<id>.{key}" in MODEL_KEYS:
        return f"{section[0]}.{section[1]}.<id>.{key}"
    return f"{path}.{key}" if path else key


def test_the_walk_sees_nested_models_and_every_implementation() -> None:
    assert {"channel.name", "columns.id", "broadcast.columns.<id>.max_items", "gate.policy"} <= MODEL_KEYS
    assert {"sources.options.hanweb.perpage", "targets.options.*.grace_hours", "targets.options.webdav.url"} <= MODEL_KEYS


@pytest.mark.parametrize(
    ("where", "found"), [("README configuration reference", readme_keys), ("config/tvpusher.example.toml", example_keys)]
)
def test_every_setting_is_documented(where: str, found: typing.Callable[[], set[str]]) -> None:
    missing = sorted(MODEL_KEYS - found())
    assert not missing, f"settings missing from the {where}: {', '.join(missing)}"


@pytest.mark.parametrize(
    ("where", "found"), [("README configuration reference", readme_keys), ("config/tvpusher.example.toml", example_keys)]
)
def test_every_documented_key_is_a_setting(where: str, found: typing.Callable[[], set[str]]) -> None:
    unknown = sorted(found() - MODEL_KEYS)
    assert not unknown, f"the {where} names keys no settings model has: {', '.join(unknown)}"
