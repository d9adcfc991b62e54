"""Configuration errors name the bad key; secrets come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from pusher.config.settings import load_settings, parse_settings
from pusher.errors import ConfigError

BASE = {
    "columns": [{"id": "zwgk", "name": "政府信息公开"}],
    "sources": [{"name": "s1", "kind": "html", "url": "http://127.0.0.1/col/", "column": "zwgk"}],
    "targets": [{"name": "h", "kind": "folder", "options": {"path": "headend"}}],
}


def with_(path: str, value: object) -> dict:
    import copy

    raw = copy.deepcopy(BASE)
    node: dict = raw
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]  # type: ignore[index]
    node[keys[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (with_("sources.0.interval", "often"), "sources[0].interval"),
        (with_("sources.0.colour", "red"), "sources[0].colour"),
        (with_("sources.0.column", "nope"), None),
        (with_("sources.0.kind", "gopher"), "sources[0].kind"),
        (with_("sources.0.options", {"link_xpat": "//a"}), "sources[0].options.link_xpat"),
        (with_("targets.0.options", {}), "targets[0].options.path"),
        ({**BASE, "channel": {"profile": "4k"}}, "channel.profile"),
    ],
)
def test_errors_name_the_key(raw: dict, key: str | None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(raw, tmp_path)
    if key:
        assert err.value.key == key, str(err.value)
        assert str(err.value).startswith(key)
    else:
        assert "nope" in str(err.value)


def test_relative_paths_follow_the_config_file(tmp_path: Path) -> None:
    s = parse_settings(BASE, tmp_path)
    assert s.channel.workdir == tmp_path / "var"
    assert s.targets[0].options["path"] == str(tmp_path / "headend")


def test_secrets_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = with_("targets.0.options", {"path": "${HEADEND_DIR}"})
    with pytest.raises(ConfigError, match="HEADEND_DIR is not set") as err:
        parse_settings(raw, tmp_path)
    assert err.value.key == "targets[0].options.path"
    monkeypatch.setenv("HEADEND_DIR", "/srv/headend")
    assert parse_settings(raw, tmp_path).targets[0].options["path"] == "/srv/headend"


def test_load_settings_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUSHER_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="no configuration"):
        load_settings(None)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[channel\nname = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADEND_PASSWORD", "x")
    monkeypatch.setenv("HEADEND_FTP_PASSWORD", "y")
    example = Path(__file__).resolve().parents[2] / "config" / "tvpusher.example.toml"
    s = load_settings(example)
    assert s.sources and s.targets and s.columns
