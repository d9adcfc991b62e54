"""The registry: one list of implementations, loaded on first use; one whose dependency is
missing is switched off with its reason, and only a configuration that uses it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

import pusher.config.settings as loader
from pusher.errors import ConfigError
from pusher.registry import SOURCES, Registry


def test_every_entry_loads_here() -> None:
    from pusher.registry import DETECTORS, RENDERERS, TARGETS

    for reg in (SOURCES, RENDERERS, TARGETS, DETECTORS):
        assert [e.kind for e in reg if e.unavailable] == [], reg.what


def test_a_missing_dependency_switches_one_kind_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    reg = Registry("source", {
        "html": ("feeds.sources.html:HtmlSource", "feeds.sources.html:HtmlOptions", "generic"),
        "fancy": ("no_such_module_tvpusher:Fancy", "", "needs a library this machine lacks"),
    })  # fmt: skip
    assert reg.get("fancy").status == "unavailable: No module named 'no_such_module_tvpusher'"
    assert reg.get("html").status == "available"
    monkeypatch.setattr(loader, "SOURCES", reg)
    base = {"columns": [{"id": "c", "name": "C"}]}
    fine = {**base, "sources": [{"name": "a", "kind": "html", "url": "http://x.test/", "column": "c"}]}
    assert loader.parse_settings(fine, tmp_path).sources[0].kind == "html"
    uses = {**base, "sources": [{"name": "a", "kind": "fancy", "url": "http://x.test/", "column": "c"}]}
    with pytest.raises(ConfigError, match="unavailable: No module named 'no_such_module_tvpusher'") as err:
        loader.parse_settings(uses, tmp_path)
    assert err.value.key == "sources[0].kind"
