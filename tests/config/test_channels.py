"""Several channels in one file: defaults merged under each ``[channels.<name>]``, what keeps
channels apart defaulted per channel, collisions and misplaced keys named; a one-channel file
reads as it always did."""

from __future__ import annotations

from pathlib import Path

import pytest

from pusher.config.channels import load_channels, parse_deployment
from pusher.config.settings import load_settings, parse_settings, with_schema
from pusher.errors import ConfigError

COLUMNS = [{"id": "tzgg", "name": "通知公告"}, {"id": "zwgk", "name": "政府信息公开"}]


def source(name: str, column: str = "tzgg") -> dict[str, object]:
    return {"name": name, "kind": "rss", "url": f"http://127.0.0.1:1/{name}.xml", "column": column}


def folder(path: str) -> dict[str, object]:
    return {"name": "headend", "kind": "folder", "options": {"path": path}}


def deployment(**channels: dict[str, object]) -> dict[str, object]:
    return {"channel": {"profile": "sd", "publish_interval": 30}, "columns": COLUMNS, "http": {"delay": 0.5},
            "daemon": {"node": "n1"}, "channels": channels}  # fmt: skip


def test_a_one_channel_file_is_one_unnamed_channel(tmp_path: Path) -> None:
    raw = {"columns": COLUMNS, "sources": [source("s")], "targets": [folder("out")]}
    dep = parse_deployment(raw, tmp_path)
    assert not dep.several and dep.names == [""]
    assert dep.get(None).settings == parse_settings(raw, tmp_path)
    with pytest.raises(ConfigError, match="one channel"):
        dep.get("yk")


def test_defaults_merge_under_each_channel(tmp_path: Path) -> None:
    raw = deployment(
        yk={"channel": {"name": "永康政务"}, "sources": [source("a"), source("b", "zwgk")], "targets": [folder("yk")],
            "gate": {"policy": {"mobile": "hold"}}},
        wy={"channel": {"name": "武义政务", "profile": "hd", "workdir": "/srv/wy"}, "columns": COLUMNS[:1], "sources": [source("c")],
            "targets": [folder("wy")], "http": {"per_host": 1}},
    )  # fmt: skip
    dep = parse_deployment(raw, tmp_path)
    assert dep.several and dep.names == ["yk", "wy"]
    yk, wy = dep.get("yk").settings, dep.get("wy").settings
    # Tables merge key by key: the defaults' keys stay unless the channel sets them.
    assert (yk.channel.name, yk.channel.profile, yk.channel.publish_interval) == ("永康政务", "sd", 30)
    assert (wy.channel.name, wy.channel.profile, wy.channel.publish_interval) == ("武义政务", "hd", 30)
    assert (yk.http.delay, yk.http.per_host) == (0.5, 2) and (wy.http.delay, wy.http.per_host) == (0.5, 1)
    assert yk.gate.policy["mobile"] == "hold" and wy.gate.policy.get("mobile") != "hold"
    # Arrays replace the defaults' whole.
    assert [c.id for c in yk.columns] == ["tzgg", "zwgk"] and [c.id for c in wy.columns] == ["tzgg"]
    assert [s.name for s in yk.sources] == ["a", "b"] and [s.name for s in wy.sources] == ["c"]
    assert yk.targets[0].options["path"] == str(tmp_path / "yk")
    # Each its own workdir (and so its own SQLite database) unless it names one.
    assert yk.channel.workdir == tmp_path / "var" / "yk" and wy.channel.workdir == Path("/srv/wy")
    assert yk.channel.database_url == f"sqlite:///{tmp_path / 'var' / 'yk' / 'tvpusher.db'}"
    assert yk.daemon.node == wy.daemon.node == "n1"


def test_a_shared_postgresql_database_gets_a_schema_per_channel(tmp_path: Path) -> None:
    raw = deployment(yk={"sources": [source("a")], "targets": [folder("yk")]},
                     wy={"sources": [source("b")], "targets": [folder("wy")], "channel": {"database_schema": "wuyi"}},
                     pa={"sources": [source("c")], "targets": [folder("pa")], "channel": {"database": "postgresql://db/pan_an"}})  # fmt: skip
    raw["channel"]["database"] = "postgresql://tvp@db:5432/tvpusher"  # type: ignore[index]
    dep = parse_deployment(raw, tmp_path)
    urls = {c.name: c.settings.channel.database_url for c in dep.channels}
    assert urls["yk"] == "postgresql://tvp@db:5432/tvpusher?options=-csearch_path%3D%22yk%22%2Cpublic"
    assert urls["wy"].endswith("options=-csearch_path%3D%22wuyi%22%2Cpublic")
    assert urls["pa"] == "postgresql://db/pan_an"  # its own database: its own search path
    # The URL's other libpq options are kept, the channel's search path given last.
    kept = with_schema("postgresql://h/d?sslmode=require&options=-csynchronous_commit%3Doff", "yk")
    assert kept == "postgresql://h/d?sslmode=require&options=-csynchronous_commit%3Doff%20-csearch_path%3D%22yk%22%2Cpublic"


@pytest.mark.parametrize(
    ("channels", "key", "words"),
    [
        ({"yk": {"daemon": {"node": "x"}}}, "channels.yk.daemon", "top level"),
        ({"y k": {}}, "channels.y k", "name"),
        ({"yk": {"sources": [source("a", "nope")]}}, "channels.yk", "nope"),
        ({"yk": {"sources": [{**source("a"), "interval": 1}]}}, "channels.yk.sources[0].interval", "greater"),
        ({"yk": {"channel": {"colour": "red"}}}, "channels.yk.channel.colour", "unknown"),
        ({"yk": {"targets": [folder("h")]}, "wy": {"targets": [folder("h")]}}, "channels.wy.targets", "share one headend folder"),
        ({"yk": {"channel": {"workdir": "w"}}, "wy": {"channel": {"workdir": "w"}}}, "channels.wy.channel.workdir", "share one workdir"),
        ({"yk": {"channel": {"database": "postgresql://db/x"}}, "wy": {"channel": {"database": "postgresql://db/x"}}},
         "channels.wy.channel.database", "share one database"),
    ],
)  # fmt: skip
def test_errors_name_the_channel_and_key(tmp_path: Path, channels: dict[str, dict[str, object]], key: str, words: str) -> None:
    raw = deployment(**channels)
    with pytest.raises(ConfigError) as err:
        parse_deployment(raw, tmp_path)
    assert err.value.key == key, str(err.value)
    assert words in str(err.value)


def test_no_channel_tables_at_all_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"one \[channels.<name>\] table per channel"):
        parse_deployment({"channels": {}}, tmp_path)


def test_load_settings_picks_a_channel_and_parse_settings_refuses_several(tmp_path: Path) -> None:
    cfg = tmp_path / "t.toml"
    cfg.write_text("""
[channel]
profile = "sd"
[[columns]]
id = "tzgg"
name = "通知公告"
[channels.yk.channel]
name = "永康"
[channels.wy.channel]
name = "武义"
""", encoding="utf-8")  # fmt: skip
    assert load_settings(cfg, "wy").channel.name == "武义"
    assert [c.settings.channel.name for c in load_channels(cfg).channels] == ["永康", "武义"]
    with pytest.raises(ConfigError, match=r"2 channels \(yk, wy\): choose one with --channel"):
        load_settings(cfg)
    with pytest.raises(ConfigError, match="no channel named 'pa'"):
        load_settings(cfg, "pa")
    with pytest.raises(ConfigError, match="several channels"):
        parse_settings({"channels": {"yk": {}}}, tmp_path)
