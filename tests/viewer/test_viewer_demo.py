"""The viewer on the demo's channel (``pusher demo --no-serve``), served by ``pusher preview``."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image, ImageDraw
from viewer_channel import browse_plan, href_of, item_pages, menu, read_channel, write_atomic

from feeds.channel import validate
from pusher.web.preview import serve_preview

pytestmark = pytest.mark.browser

NS = "urn:tvpusher:channel:1"
C = {"c": NS}
CLI = [sys.executable, "-c", "from pusher.cli import run; run()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def demo_headend(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """``pusher demo --no-serve`` once per run: xdist workers share it under a lock."""
    base = tmp_path_factory.getbasetemp()
    work = (base if worker_id == "master" else base.parent) / "viewer-demo"
    work.mkdir(exist_ok=True)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = work / "headend" / "channel.xml"
        if not done.is_file():
            env = {k: v for k, v in os.environ.items() if k != "PUSHER_CONFIG"}
            cmd = [*CLI, "demo", "--workdir", str(work), "--no-serve", "--port", str(_free_port())]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
            assert r.returncode == 0, f"pusher demo failed:\n{r.stdout}\n{r.stderr}"
            assert done.is_file(), r.stdout
    return work / "headend"


@pytest.fixture
def demo(browser: object, demo_headend: Path, tmp_path: Path) -> Path:
    """A private copy of the demo's headend folder, which the test may rewrite (asks for the
    browser first, so that a machine without chromium skips before running the demo)."""
    return Path(shutil.copytree(demo_headend, tmp_path / "headend"))


@pytest.fixture
def preview(demo: Path) -> Iterator[str]:
    """The demo's headend served by the preview server (in-process: ``pusher preview`` itself
    serves the browsing test below and is tested on its own in test_viewer_preview.py)."""
    server, url = serve_preview(demo)
    yield url
    server.close()


@pytest.fixture
def preview_cli(demo: Path) -> Iterator[str]:
    """``pusher preview --port 0 DIR`` in its own process, as an operator runs it."""
    env = {**{k: v for k, v in os.environ.items() if k != "PUSHER_CONFIG"}, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*CLI, "preview", "--port", "0", str(demo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.match(r"机顶盒查看器：(http://127\.0\.0\.1:\d+/)", line)
        assert m, f"no URL from pusher preview: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        yield m.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Manifest:
    """The demo's channel.xml, to be rewritten as the publisher would (next version, valid)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = etree.fromstring(read_channel(folder))

    @property
    def data(self) -> bytes:
        return bytes(etree.tostring(self.root, xml_declaration=True, encoding="UTF-8"))

    def page(self, pid: str) -> etree._Element:
        return self.root.xpath("//c:page[@id=$id]", namespaces=C, id=pid)[0]

    def item(self, iid: str) -> etree._Element:
        return self.root.xpath("c:items/c:item[@id=$id]", namespaces=C, id=iid)[0]

    def publish(self) -> bytes:
        self.root.set("version", str(int(self.root.get("version")) + 1))
        data = self.data
        validate(data)
        write_atomic(self.folder / "channel.xml", data)
        return data

    def new_image(self, pid: str, label: str) -> str:
        """Gives page ``pid`` a new image (as a re-rendered page would have); returns its href."""
        img = Image.new("RGB", (1280, 720), (24, 40, 72))
        ImageDraw.Draw(img).rectangle((100, 100, 1180, 620), outline=(235, 200, 96), width=12)
        ImageDraw.Draw(img).text((140, 140), label, fill=(230, 230, 222))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        sha = hashlib.sha256(buf.getvalue()).hexdigest()
        (self.folder / "assets" / f"{sha}.png").write_bytes(buf.getvalue())
        p = self.page(pid)
        p.set("href", f"assets/{sha}.png")
        p.set("sha256", sha)
        p.set("bytes", str(len(buf.getvalue())))
        return p.get("href")

    def withdraw(self, iid: str) -> None:
        item = self.item(iid)
        item.getparent().remove(item)
        for e in self.root.xpath("//c:entry[@item=$id]", namespaces=C, id=iid):
            page = e.getparent()
            page.remove(e)
            col = page.getparent()
            col.set("items", str(int(col.get("items")) - 1))


def _multi_page_item(xml: bytes) -> tuple[int, str, int, str]:
    """(column number on home, column page, entry number, item) of the first item with 2+ pages."""
    for cn, col_page, _ in menu(xml, "home-1"):
        for n, _, item in menu(xml, col_page):
            if len(item_pages(xml, item)) >= 2:
                return cn, col_page, n, item
    raise AssertionError("the demo channel has no item of two pages")


def test_demo_browse_digits_arrows_pages_back_colours(preview_cli: str, demo: Path, tv) -> None:
    xml = read_channel(demo)
    home = menu(xml, "home-1")
    cn, col_page, n, item = _multi_page_item(xml)
    pages = item_pages(xml, item)
    t = tv(preview_cli)
    t.shown("home-1", focus="1", version="1")
    t.shot("demo-01-home")
    # By digit: the last column on the home menu.
    last_n, last_col, _ = home[-1]
    t.press(str(last_n))
    t.shown(last_col, focus="1")
    t.press("Backspace")
    t.shown("home-1", focus=str(last_n))
    # By arrows: back to the top, down to the column of the multi-page item, OK.
    for _ in home:
        t.press("ArrowUp")
    t.wait(focus="1")
    for _ in range(cn - 1):
        t.press("ArrowDown")
    t.wait(focus=str(cn))
    t.shot("demo-02-home-focus")
    t.press("Enter")
    t.shown(col_page, focus="1")
    for _ in range(n - 1):
        t.press("ArrowDown")
    t.wait(focus=str(n))
    t.shot("demo-03-column-focus")
    t.press("Enter")
    t.shown(pages[0], item=item)
    assert t.src() == href_of(xml, pages[0])
    t.press("ArrowRight")
    t.shown(pages[1], item=item)
    assert t.src() == href_of(xml, pages[1])
    t.shot("demo-04-item-page-2")
    t.press("Backspace")
    t.shown(col_page, focus=str(n))
    # Colour keys: every column bound to a key, from wherever the viewer is.
    root = etree.fromstring(xml)
    bound = [(c.get("key"), c.xpath("c:page/@id", namespaces=C)[0]) for c in root.xpath("//c:column[@key]", namespaces=C)]
    assert len(bound) >= 2
    for colour, first in bound:
        t.press(colour[0])  # r g y b
        t.shown(first)
    t.press_code(403)  # VK_RED
    t.shown(dict(bound)["red"])
    t.shot("demo-05-colour-red")
    # Channel ± follows the manifest's CH_UP/CH_DOWN keys.
    up = Manifest(demo).page(dict(bound)["red"]).xpath("c:key[@code='CH_UP']/@to", namespaces=C)[0]
    t.press("PageUp")
    t.shown(up)


def test_demo_item_updated_then_withdrawn_while_viewing(preview: str, demo: Path, tv) -> None:
    xml = read_channel(demo)
    cn, col_page, n, item = _multi_page_item(xml)
    pages = item_pages(xml, item)
    t = tv(preview)
    t.shown("home-1")
    t.press(str(cn))
    t.shown(col_page)
    t.press(str(n))
    t.shown(pages[0])
    t.press("ArrowRight")
    t.shown(pages[1])
    old = t.src()

    m = Manifest(demo)
    m.item(item).set("version", "2")
    new = m.new_image(pages[1], "updated page 2")
    m.publish()
    t.shown(pages[1], version="2", item=item, status="ok")
    assert t.src() == new != old
    t.shot("demo-06-item-updated")

    m.withdraw(item)
    v3 = m.publish()
    left = menu(v3, col_page)
    assert item not in {i for _, _, i in left}
    t.shown(col_page, version="3", item="", focus=str(left[0][0]))
    assert t.src() == href_of(v3, col_page)
    t.shot("demo-07-item-withdrawn")


def test_demo_script_in_titles_and_alert_is_text(preview: str, demo: Path, tv) -> None:
    evil = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    xml = read_channel(demo)
    cn, col_page, n, item = _multi_page_item(xml)
    m = Manifest(demo)
    m.root.set("name", "政务频道" + evil)
    m.item(item).xpath("c:title", namespaces=C)[0].text = "标题" + evil
    col = m.root.xpath("//c:column[c:page/@id=$p]", namespaces=C, p=col_page)[0]
    col.set("name", "栏目" + evil)
    alerts = etree.Element(f"{{{NS}}}alerts")
    alert = etree.SubElement(alerts, f"{{{NS}}}alert", id="a1", level="warning")
    etree.SubElement(alert, f"{{{NS}}}text").text = "预警" + evil
    m.root.insert(0, alerts)
    m.publish()
    t = tv(preview)
    t.shown("home-1", version="2")
    assert t.page.title() == "政务频道" + evil
    assert t.page.locator("#ticker-text").text_content() == "预警" + evil
    t.press(str(cn))
    t.shown(col_page)
    assert t.page.get_attribute("#page", "alt") == "栏目" + evil
    t.press(str(n))
    t.shown(item_pages(xml, item)[0])
    assert t.page.get_attribute("#page", "alt") == "标题" + evil
    assert t.page.evaluate("() => window.__pwned") is None
    assert t.page.evaluate("() => document.querySelectorAll('script').length") == 1
    assert t.page.evaluate("() => document.querySelectorAll('img').length") == 1
    t.shot("demo-08-script-title-ticker")


def test_demo_broken_manifest_keeps_last_good(preview: str, demo: Path, tv) -> None:
    xml = read_channel(demo)
    cn, col_page, n, item = _multi_page_item(xml)
    t = tv(preview)
    t.shown("home-1")
    t.press(str(cn))
    t.shown(col_page)
    src = t.src()
    m = Manifest(demo)
    write_atomic(demo / "channel.xml", xml.replace(b'version="1"', b'version="2"', 1)[: len(xml) * 2 // 3])
    t.wait(status="error-manifest")
    assert t.page.locator("#status").is_visible()
    assert (t.data()["shown"], t.data()["version"], t.src()) == (col_page, "1", src)
    t.shot("demo-09-broken-manifest")
    t.press(str(n))  # the last good channel keeps working
    t.shown(item_pages(xml, item)[0])
    m.root.set("version", "2")
    m.publish()
    t.shown(item_pages(xml, item)[0], version="3", status="ok")
    assert t.page.locator("#status").is_hidden()


def test_demo_key_to_paint_latency(preview: str, demo: Path, tv) -> None:
    keys = browse_plan(read_channel(demo))
    t = tv(preview)
    t.shown("home-1")
    for k in keys:
        t.page.wait_for_function("() => window.tvViewer.pending() === 0", timeout=5000)
        before = t.page.evaluate("() => window.tvViewer.latencies().length")
        t.press(k)
        t.page.wait_for_function("n => window.tvViewer.latencies().length === n", arg=before + 1, timeout=5000)
    ms = list(t.page.evaluate("() => window.tvViewer.latencies()"))
    assert len(ms) == len(keys)
    p50, p95 = statistics.median(ms), statistics.quantiles(ms, n=20)[-1]
    print(f"\nviewer key-to-paint on the demo channel, preloading, loopback, n={len(ms)}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    assert p50 <= 100
    assert p95 <= 200
