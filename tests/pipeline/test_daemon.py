"""The real daemon (`pusher run`) in a subprocess, against the sample portal over real HTTP:
items arrive in the headend folder, a new portal item follows, SIGTERM exits cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from feeds.channel import folder_reader, headend_manifest, manifest_tree
from feeds.xmlsafe import parse_xml
from pusher.web.httpserve import StaticServer

NS = "{urn:tvpusher:channel:1}"
NEW_ITEM = """<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ArticleTitle" content="关于元旦期间市行政服务中心服务时间调整的通知">
<meta name="PubDate" content="2026-11-26 10:00"></head><body><h1>关于元旦期间市行政服务中心服务时间调整的通知</h1>
<div id="zoom"><p>　　元旦期间，市行政服务中心1月1日暂停对外服务，1月2日起恢复正常。</p></div></body></html>"""


def write_config(path: Path, portal: str, work: Path) -> None:
    path.write_text(
        f"""
[channel]
name = "测试频道"
workdir = "{work}"
publish_interval = 5
[[columns]]
id = "tzgg"
name = "通知公告"
[[sources]]
name = "notices"
kind = "html"
url = "{portal}/col/col1001/index.html"
column = "tzgg"
interval = 10
[sources.options]
link_xpath = "//ul[contains(@class,'xxgk-list')]/li/a"
date_xpath = "../span"
[[targets]]
name = "headend"
kind = "folder"
options = {{ path = "{work}/headend" }}
[http]
delay = 0.0
""",
        encoding="utf-8",
    )


def items_in(headend: Path) -> set[str]:
    try:
        data = headend_manifest(headend)
    except FileNotFoundError:
        return set()
    return {t.text or "" for t in parse_xml(data).iter(f"{NS}title")}


def wait_for(pred, timeout: float = 60) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_daemon_delivers_new_portal_items_and_stops_on_sigterm(portal_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    cfg = tmp_path / "tvpusher.toml"
    headend = work / "headend"
    with StaticServer(portal_dir) as portal:
        write_config(cfg, portal.url, work)
        env = {**os.environ, "PUSHER_CONFIG": str(cfg)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "pusher", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert wait_for(lambda: len(items_in(headend)) >= 6), "the first channel never arrived"
            # Publish a new item on the portal: a new article and a new first list entry.
            art = portal_dir / "art/2026/11/26/art_1001_5199.html"
            art.parent.mkdir(parents=True, exist_ok=True)
            art.write_text(NEW_ITEM, encoding="utf-8")
            listing = portal_dir / "col/col1001/index.html"
            html = listing.read_text(encoding="utf-8")
            entry = '<li><a href="/art/2026/11/26/art_1001_5199.html" title="关于元旦期间市行政服务中心服务时间调整的通知">关于元旦期间…</a><span>2026-11-26</span></li>\n'
            listing.write_text(html.replace('<ul class="xxgk-list">\n', '<ul class="xxgk-list">\n' + entry), encoding="utf-8")
            assert wait_for(lambda: "关于元旦期间市行政服务中心服务时间调整的通知" in items_in(headend), 45), "the new item never arrived"
            data = (headend / "channel.xml").read_bytes()
            for href, (_, size) in manifest_tree(data, folder_reader(headend)).items():
                assert (headend / href).stat().st_size == size
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                output, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    assert proc.returncode == 0, output
    assert "daemon stopped" in output
