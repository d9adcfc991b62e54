"""A small channel written straight to a headend folder, for the viewer tests and bench.

Pages are drawn by the real renderer; channel.xml is built with lxml and validated against
feeds/channel.xsd, so the viewer is tested against what the schema allows (the demo's channel
from the real builder is tested as well, in test_viewer_demo.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from lxml import etree

from feeds.channel import expand_manifest, split_manifest
from pusher.interfaces import Block, Document, Menu, MenuEntry, PageContext, PageImage
from renderers.tv import make_renderer

NS = "urn:tvpusher:channel:1"
XSD = Path(__file__).resolve().parents[2] / "feeds" / "channel.xsd"
CHANNEL = "永康政务"
TODAY = date(2026, 11, 27)


@dataclass(frozen=True)
class Col:
    id: str
    name: str
    key: str | None


@dataclass(frozen=True)
class It:
    id: str
    column: str
    title: str
    paragraphs: int = 2  # 2 gives two pages at HD
    version: int = 1
    seed: str = ""  # changes the body text, hence the page images
    sections: int = 0  # numbered sections (一、…) of ``paragraphs`` each: a long item with a contents page


@dataclass(frozen=True)
class Alert:
    id: str
    text: str
    level: str = "urgent"
    page: bool = False  # with a full-screen page (reached from the ticker with the INFO key)


@dataclass
class Spec:
    version: int
    columns: list[Col]
    items: list[It]
    alerts: list[Alert] = field(default_factory=list)
    unknown: bool = False  # add elements from a future version that readers must ignore
    name: str = CHANNEL

    def with_(self, **kw: object) -> Spec:
        return replace(self, **kw)  # type: ignore[arg-type]


COLUMNS = [Col("notices", "通知公告", "red"), Col("policy", "政策文件", "green"), Col("news", "政务动态", "yellow")]
ITEMS = [
    It("n1", "notices", "关于开展冬季安全生产大检查的通知"),
    It("n2", "notices", "关于2026年度城乡居民医保参保缴费的通告"),
    It("n3", "notices", "永康市人民政府关于调整部分公交线路的公告"),
    It("p1", "policy", "永康市人民政府办公室关于印发促进制造业高质量发展若干政策的通知"),
    It("p2", "policy", "关于进一步优化营商环境的实施意见"),
    It("w1", "news", "市政府召开第十二次常务会议"),
    It("w2", "news", "我市举行秋季消防应急演练"),
]


def base_spec(version: int = 1) -> Spec:
    return Spec(version=version, columns=list(COLUMNS), items=list(ITEMS))


_NUMERALS = "一二三四五六七八九十"
_SENTENCE = "为切实做好相关工作，保障人民群众生命财产安全，现将有关事项通知如下，请各单位认真贯彻落实。"


class Builder:
    """Renders pages (cached by content) and writes assets + channel.xml into a folder."""

    def __init__(self, profile: str = "hd") -> None:
        self.r = make_renderer(profile)
        self._items: dict[tuple[str, int, str], Sequence[PageImage]] = {}
        self._menus: dict[tuple[str, tuple[tuple[str, str], ...]], Sequence[PageImage]] = {}
        self.schema = etree.XMLSchema(etree.parse(str(XSD)))

    def item_pages(self, it: It, column: str) -> Sequence[PageImage]:
        key = (it.title, it.paragraphs, it.seed, it.sections)
        if key not in self._items:
            blocks = tuple(Block(kind="p", text=f"{it.seed}{it.title}。" + _SENTENCE * 5) for _ in range(it.paragraphs))
            if it.sections:
                blocks = tuple(b for k in range(it.sections) for b in (Block("p", f"{_NUMERALS[k]}、第{k + 1}部分的工作"), *blocks))
            doc = Document(url=f"http://www.yk.gov.cn/art/{it.id}.html", title=it.title, blocks=blocks, publisher="永康市人民政府")
            self._items[key] = self.r.render_item(doc, PageContext(CHANNEL, column, TODAY))
        return self._items[key]

    def menu_pages(self, title: str, entries: list[tuple[str, str]], kind: str) -> Sequence[PageImage]:
        key = (title, tuple(entries))
        if key not in self._menus:
            menu = Menu(title=title, entries=tuple(MenuEntry(key=k, label=label, date=TODAY) for k, label in entries), kind=kind)  # type: ignore[arg-type]
            self._menus[key] = self.r.render_menu(menu, PageContext(CHANNEL, "" if kind == "home" else title, TODAY))
        return self._menus[key]

    def write(self, folder: Path, spec: Spec, *, fmt: int = 3) -> bytes:
        """Writes the channel (format 3: channel.xml names the parts of the home menu and of
        each column, as publish writes it; 1: everything in channel.xml) and returns it whole,
        in format 1."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "assets").mkdir(exist_ok=True)
        E = _Maker()
        root = E.el(
            "channel",
            version=str(spec.version),
            generated="2026-11-27T10:00:00+08:00",
            name=spec.name,
            profile=self.r.profile.name,
            width=str(self.r.profile.width),
            height=str(self.r.profile.height),
            home="home-1",
        )

        def page(parent: etree._Element, pid: str, img: PageImage) -> etree._Element:
            sha = hashlib.sha256(img.png).hexdigest()
            path = folder / "assets" / f"{sha}.png"
            if not path.exists():
                path.write_bytes(img.png)
            return E.sub(
                parent,
                "page",
                id=pid,
                href=f"assets/{sha}.png",
                sha256=sha,
                bytes=str(len(img.png)),
                width=str(img.width),
                height=str(img.height),
            )

        def entries(p: etree._Element, img: PageImage, target: dict[str, tuple[str, str | None]]) -> None:
            for number, key, x, y, w, h in img.entries:
                to, item = target[key]
                attrs = {"number": str(number), "to": to, "x": str(x), "y": str(y), "w": str(w), "h": str(h)}
                if item:
                    attrs["item"] = item
                E.sub(p, "entry", **attrs)

        def keys(p: etree._Element, ids: list[str], i: int, back: str | None) -> None:
            if i > 0:
                E.sub(p, "key", code="LEFT", to=ids[i - 1])
            if i + 1 < len(ids):
                E.sub(p, "key", code="RIGHT", to=ids[i + 1])
            if back:
                E.sub(p, "key", code="BACK", to=back)

        if spec.alerts:
            alerts = E.sub(root, "alerts")
            for a in spec.alerts:
                al = E.sub(alerts, "alert", id=a.id, level=a.level)
                E.sub(al, "text").text = a.text
                if a.page:
                    img = self.item_pages(It(a.id, "", "紧急通知", paragraphs=0, seed=a.text), "")[0]
                    p = page(al, f"alert-{a.id}-1", img)
                    E.sub(p, "key", code="BACK", to="home-1")

        cols = list(spec.columns)
        by_col = {c.id: [it for it in spec.items if it.column == c.id] for c in cols}

        home = E.sub(root, "home")
        home_imgs = self.menu_pages(CHANNEL, [(c.id, c.name) for c in cols], "home")
        home_ids = [f"home-{n}" for n in range(1, len(home_imgs) + 1)]
        for i, img in enumerate(home_imgs):
            p = page(home, home_ids[i], img)
            entries(p, img, {c.id: (f"col-{c.id}-1", None) for c in cols})
            keys(p, home_ids, i, None)

        columns = E.sub(root, "columns")
        menu_of_item: dict[str, str] = {}
        item_ids: dict[str, list[str]] = {}
        for it in spec.items:
            item_ids[it.id] = [f"{it.id}-{n}" for n in range(1, len(self.item_pages(it, it.column)) + 1)]
        for c in cols:
            attrs = {"id": c.id, "name": c.name, "items": str(len(by_col[c.id]))}
            if c.key:
                attrs["key"] = c.key
            col = E.sub(columns, "column", **attrs)
            imgs = self.menu_pages(c.name, [(it.id, it.title) for it in by_col[c.id]], "column")
            ids = [f"col-{c.id}-{n}" for n in range(1, len(imgs) + 1)]
            for i, img in enumerate(imgs):
                p = page(col, ids[i], img)
                entries(p, img, {it.id: (item_ids[it.id][0], it.id) for it in by_col[c.id]})
                keys(p, ids, i, "home-1")
                for _, key, *_r in img.entries:
                    menu_of_item[key] = ids[i]

        items = E.sub(root, "items")
        for it in spec.items:
            node = E.sub(items, "item", id=it.id, column=it.column, version=str(it.version))
            E.sub(node, "title").text = it.title
            E.sub(node, "url").text = f"http://www.yk.gov.cn/art/{it.id}.html"
            E.sub(node, "published").text = "2026-11-26T09:30:00+08:00"
            for i, img in enumerate(self.item_pages(it, it.column)):
                p = page(node, item_ids[it.id][i], img)
                # A contents page's entries lead to the item's own pages (as publish makes them).
                entries(p, img, {f"page-{n}": (pid, None) for n, pid in enumerate(item_ids[it.id], 1)})
                keys(p, item_ids[it.id], i, menu_of_item.get(it.id))
        if spec.unknown:
            # A later version's element (another namespace, as the schema's xs:any allows).
            ext = etree.SubElement(root, "{urn:example:future}weather", city="永康")
            ext.text = "晴"
        data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        self.schema.assertValid(etree.fromstring(data))
        if fmt == 3:
            built = split_manifest(data)
            for href, part in built.parts.items():
                if not (folder / href).exists():
                    write_atomic(folder / href, part)
            write_atomic(folder / "channel.xml", built.root)
        else:
            write_atomic(folder / "channel.xml", data)
        return data


def read_channel(folder: Path) -> bytes:
    """A headend's channel.xml whole (format 1), its column manifests read back into it."""

    def read(href: str) -> bytes | None:
        path = folder / href
        return path.read_bytes() if path.is_file() else None

    return expand_manifest((folder / "channel.xml").read_bytes(), read)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class _Maker:
    def el(self, tag: str, **attrs: str) -> etree._Element:
        return etree.Element(f"{{{NS}}}{tag}", attrs, nsmap={None: NS})

    def sub(self, parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)


def href_of(channel_xml: bytes, page_id: str) -> str:
    """The asset a page id points at (the manifest is written by us: attributes in known order)."""
    m = re.search(rb'<page id="' + re.escape(page_id.encode()) + rb'" href="([^"]+)"', channel_xml)
    assert m, f"no page {page_id} in the manifest"
    return m.group(1).decode()


def _page_el(channel_xml: bytes, page_id: str) -> etree._Element:
    found = etree.fromstring(channel_xml).xpath("//c:page[@id=$id]", namespaces={"c": NS}, id=page_id)
    assert found, f"no page {page_id} in the manifest"
    return found[0]


def entry_rect(channel_xml: bytes, page_id: str, number: int) -> tuple[int, int, int, int]:
    """Where the manifest says entry ``number`` of a page is drawn (x, y, w, h)."""
    e = _page_el(channel_xml, page_id).xpath("c:entry[@number=$n]", namespaces={"c": NS}, n=str(number))[0]
    return int(e.get("x")), int(e.get("y")), int(e.get("w")), int(e.get("h"))


def item_pages(channel_xml: bytes, item_id: str) -> list[str]:
    root = etree.fromstring(channel_xml)
    return [str(p) for p in root.xpath("//c:item[@id=$id]/c:page/@id", namespaces={"c": NS}, id=item_id)]


def menu(channel_xml: bytes, page_id: str) -> list[tuple[int, str, str]]:
    """A page's entries as (number, to page, item id)."""
    return [
        (int(e.get("number")), str(e.get("to")), str(e.get("item") or ""))
        for e in _page_el(channel_xml, page_id).xpath("c:entry", namespaces={"c": NS})
    ]


def browse_plan(channel_xml: bytes, max_items: int = 3) -> list[str]:
    """Keys (Playwright names) of a browsing path on which every press moves to another page:
    home → each column by digit → its first items → every page turn → back → back."""
    root = etree.fromstring(channel_xml)
    home = str(root.get("home"))
    keys: list[str] = []
    for number, col_page, _ in menu(channel_xml, home)[:9]:
        keys.append(str(number))
        for n, first, item in menu(channel_xml, col_page)[: min(max_items, 9)]:
            keys.append(str(n))
            pages = item_pages(channel_xml, item) if item else [first]
            keys += ["ArrowRight"] * (len(pages) - 1) + (["ArrowLeft"] if len(pages) > 1 else [])
            keys.append("Backspace")
        keys.append("Backspace")
    return keys
