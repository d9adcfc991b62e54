"""Portal text XML cannot carry (C0 control characters pasted from Word) never reaches the manifest."""

from __future__ import annotations

from pathlib import Path

from feeds.channel import headend_manifest
from feeds.extract import clean
from feeds.xmlsafe import parse_xml
from pusher.ops import run_cycle
from pusher.runtime import Runtime

NS = "{urn:tvpusher:channel:1}"


def test_control_characters_in_a_page_do_not_stop_the_channel(demo_rt: Runtime, portal_dir: Path) -> None:
    # lxml's HTML parser keeps \x08 and \x01; its XML serialiser refuses them (ValueError): one
    # such page would fail every publish for as long as it is on air.
    art = portal_dir / "art/2026/11/20/art_1001_5101.html"
    html = art.read_text(encoding="utf-8")
    html = html.replace('content="关于2026年冬季森林防火工作的通告"', 'content="关于2026年冬季\x08森林防火工作的通告"')
    html = html.replace("有效性</td><td>有效", "有效性</td><td>有\x1f效").replace("市应急管理局</td>", "市应急\x0c管理局</td>")
    html = html.replace('</div>\n<div class="foot">', '<p><a href="/files/fire\x01plan.pdf">防火\x07预案</a></p></div>\n<div class="foot">')
    art.write_text(html, encoding="utf-8")
    # The attachment is there to be read (the gate holds an item whose attachment it cannot read).
    import io

    import docx

    buf = io.BytesIO()
    doc = docx.Document()
    doc.add_paragraph("森林防火应急预案")
    doc.save(buf)
    (portal_dir / "files").mkdir()
    (portal_dir / "files" / "fire\x01plan.pdf").write_bytes(buf.getvalue())
    rep = run_cycle(demo_rt)
    assert rep.version == 1 and rep.delivered, rep
    root = parse_xml(headend_manifest(demo_rt.settings.channel.workdir / "headend"))
    assert "关于2026年冬季森林防火工作的通告" in {t.text for t in root.iter(f"{NS}title")}
    (attachment,) = [a for a in root.iter(f"{NS}attachment") if "fire" in a.get("url", "")]
    assert attachment.text == "防火预案" and "\x01" not in attachment.get("url", "")


def test_clean_drops_what_xml_cannot_hold() -> None:
    assert clean("a\x00b\x08c\x0bd\x1fe\ufffef\uffffg") == "abc de" + "fg"
    assert clean("行一\t行二") == "行一 行二"
