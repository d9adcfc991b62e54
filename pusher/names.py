"""The names that tie the store, the manifest and the headend together, formatted and parsed in
one place (a leaf module: it imports nothing of the project).

- asset names: ``assets/<sha256>.<ext>``, the file a headend holds, named by its content (page
  images, exports, video, and the column manifests ``channel.xml`` names: only names of this
  form are ever deleted from a headend);
- page owners: ``item:<id>``, ``menu:<column>``, ``alert:<id>`` and ``home`` (``Page.owner``);
- manifest ids: ``i<id>`` for an item, ``a<id>`` for an alert (``channel.xml``).

Each ``parse_*`` is strict and raises :class:`ValueError` on anything its formatter would not
have written.
"""

from __future__ import annotations

import re
from typing import Literal

ASSET_DIR = "assets/"
#: Extensions of content-named assets: page images, exports (EPG, RSS, playlist), column
#: manifests (``xml``, like the EPG and RSS), playout segments and playlists.
ASSET_EXTS = frozenset({"png", "xml", "m3u", "ts", "m3u8", "ffconcat"})
_SHA = re.compile(r"[0-9a-f]{64}")


def asset_name(sha256: str, ext: str = "png") -> str:
    """``assets/<sha256>.<ext>``: an asset's name in a headend, relative to the manifest."""
    return f"{ASSET_DIR}{sha256}.{ext}"


def parse_asset_name(name: str) -> tuple[str, str]:
    """``assets/<sha256>.<ext>`` → ``(sha256, ext)``; ValueError unless 64 lower-case hex digits
    and a known extension."""
    leaf = name.removeprefix(ASSET_DIR)
    sha, dot, ext = leaf.partition(".")
    if leaf == name or not dot or not _SHA.fullmatch(sha) or ext not in ASSET_EXTS:
        raise ValueError(f"not an asset name: {name!r}")
    return sha, ext


def is_asset_name(name: str) -> bool:
    try:
        parse_asset_name(name)
    except ValueError:
        return False
    return True


# -- page owners ----------------------------------------------------------------------------------

OwnerKind = Literal["item", "menu", "alert", "home"]
HOME_OWNER = "home"
#: What every item's owner starts with (for SQL that builds ``item:<id>`` from the id column).
ITEM_OWNER_PREFIX = "item:"


def item_owner(item_id: int | None) -> str:
    return f"{ITEM_OWNER_PREFIX}{_id(item_id)}"


def menu_owner(key: str) -> str:
    return f"menu:{key}"


def alert_owner(alert_id: int | None) -> str:
    return f"alert:{_id(alert_id)}"


def parse_owner(owner: str) -> tuple[OwnerKind, str]:
    """``item:24`` → ``("item", "24")``, ``menu:zcwj`` → ``("menu", "zcwj")``, ``home`` →
    ``("home", "")``. ValueError for anything else (an item or alert owner needs a number)."""
    if owner == HOME_OWNER:
        return "home", ""
    kind, sep, value = owner.partition(":")
    if sep and kind == "menu" and value:
        return "menu", value
    if sep and kind in ("item", "alert") and _is_id(value):
        return ("item" if kind == "item" else "alert"), value
    raise ValueError(f"not a page owner: {owner!r}")


def parse_item_owner(owner: str) -> int:
    """``item:24`` → 24; ValueError for any other owner."""
    kind, value = parse_owner(owner)
    if kind != "item":
        raise ValueError(f"not an item's page owner: {owner!r}")
    return int(value)


# -- manifest ids ---------------------------------------------------------------------------------


def item_ref(item_id: int | None) -> str:
    """An item's id in the manifest: ``i24``."""
    return f"i{_id(item_id)}"


def alert_ref(alert_id: int | None) -> str:
    """An alert's id in the manifest: ``a3``."""
    return f"a{_id(alert_id)}"


def parse_item_ref(ref: str) -> int:
    """``i24`` → 24; ValueError otherwise."""
    return _parse_ref(ref, "i")


def parse_alert_ref(ref: str) -> int:
    """``a3`` → 3; ValueError otherwise."""
    return _parse_ref(ref, "a")


def _parse_ref(ref: str, prefix: str) -> int:
    if not ref.startswith(prefix) or not _is_id(ref[len(prefix) :]):
        raise ValueError(f"not a manifest id {prefix}<n>: {ref!r}")
    return int(ref[len(prefix) :])


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and (value == "0" or not value.startswith("0"))


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("an unsaved row has no id yet")
    return value
