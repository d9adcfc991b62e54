"""The operator changes the channel's screen profile: items on air are drawn again for it, not dropped."""

from __future__ import annotations

from pathlib import Path

from feeds.channel import headend_manifest
from feeds.xmlsafe import parse_xml
from pusher.config.settings import parse_settings
from pusher.demo import demo_config
from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.web.httpserve import StaticServer

NS = "{urn:tvpusher:channel:1}"


def aired(rt: Runtime) -> tuple[str, int]:
    root = parse_xml(headend_manifest(rt.settings.channel.workdir / "headend"))
    return root.get("profile") or "", len(list(root.iter(f"{NS}item")))


def test_a_new_profile_renders_the_items_on_air_again(portal: StaticServer, tmp_path: Path) -> None:
    cfg = demo_config(portal.url, tmp_path / "work")
    rt = Runtime(parse_settings(cfg, tmp_path))
    try:
        run_cycle(rt)
        profile, before = aired(rt)
    finally:
        rt.close()
    assert profile == "hd" and before >= 20
    cfg["channel"]["profile"] = "sd"
    rt = Runtime(parse_settings(cfg, tmp_path))
    try:
        run_cycle(rt)
        assert aired(rt) == ("sd", before), "items on air were dropped instead of drawn for the new profile"
    finally:
        rt.close()
