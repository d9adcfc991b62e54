"""The operator removes a column (and its source) from the configuration: the channel goes on
without that column's items, instead of every publish failing on them."""

from __future__ import annotations

from pathlib import Path

from feeds.xmlsafe import parse_xml
from pusher.config.settings import parse_settings
from pusher.demo import demo_config
from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.stages import publish
from pusher.stages.manifest import full_manifest
from pusher.web.httpserve import StaticServer

NS = "{urn:tvpusher:channel:1}"


def test_items_of_a_removed_column_leave_the_channel_and_publishing_goes_on(portal: StaticServer, tmp_path: Path) -> None:
    cfg = demo_config(portal.url, tmp_path / "work")
    rt = Runtime(parse_settings(cfg, tmp_path))
    try:
        run_cycle(rt)
    finally:
        rt.close()
    cfg["columns"] = [c for c in cfg["columns"] if c["id"] != "zdly"]
    cfg["sources"] = [s for s in cfg["sources"] if s["column"] != "zdly"]
    rt = Runtime(parse_settings(cfg, tmp_path))
    try:
        cv = publish(rt)
        whole = full_manifest(rt, cv) if cv is not None else b""
    finally:
        rt.close()
    assert cv is not None
    root = parse_xml(whole)
    columns = {c.get("id") for c in root.iter(f"{NS}column")}
    assert "zdly" not in columns and len(columns) == len(cfg["columns"])
    items = [i for i in root.iter(f"{NS}item")]
    assert items and all(i.get("column") in columns for i in items)
