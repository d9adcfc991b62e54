"""What a portal is built with and which columns it links: the first step of configuring one.

CMS families, each recognised by what its pages carry:

- ``hanweb`` (大汉 jcms): ``/col/colN/`` column URLs, ``/art/Y/M/D/art_…`` articles, a
  ``<datastore>`` record block or ``dataproxy.jsp`` pager, ``<!--<$[…]>begin-->`` field markers;
- ``trs`` (拓尔思 WCM): ``./YYYYMM/tYYYYMMDD_N.html`` article links, ``TRS_Editor`` / ``TRS_UEDITOR``
  bodies, the ``countPage`` / ``createPageHTML`` pager;
- ``ucap`` (开普云): ``UCAPCONTENT`` / ``UCAP-CONTENT`` bodies (read by the ``html`` adapter);
- ``vsb`` (博达 VSB): ``/info/N/N.htm`` articles, ``vsb_content`` bodies (``html`` adapter);
- anything else is ``html``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import html

from feeds.extract import clean

COLUMN_WORDS = (
    "信息公开",
    "通知公告",
    "政策文件",
    "政策解读",
    "政务公开",
    "党务公开",
    "村务公开",
    "公示公告",
    "工作动态",
    "部门动态",
    "规范性文件",
    "法定主动公开",
    "人事信息",
    "财政",
    "公告",
    "通知",
)
FAMILIES = (
    ("hanweb", (r"/col/col\d+/", r"/art/\d{4}/\d{1,2}/\d{1,2}/art_", r"<datastore>", r"dataproxy\.jsp", r"<!--<\$\[")),
    ("trs", (r"/t\d{8}_\d+\.s?html?", r"TRS_(?:Editor|UEDITOR)", r"countPage|createPageHTML")),
    ("ucap", (r"UCAP-?CONTENT",)),
    ("vsb", (r"/info/\d+/\d+\.htm", r"vsb_content", r"_sitegray")),
)
_ITEM = re.compile(r"/t\d{8}_\d+\.s?html?|/art/\d{4}/|/info/\d+/\d+\.htm|/content_\d+\.htm|/\d{6}/[^/]+\.s?html?$|/\d{4}-\d{2}/\d{2}/")


@dataclass
class Column:
    name: str
    url: str
    kind: str = "html"
    items: list[tuple[str, str]] = field(default_factory=list)  # (title, url) of its latest items


def family(text: str) -> tuple[str, list[str]]:
    """The CMS family of a page and the signs that told it."""
    best, signs = "html", list[str]()
    for name, patterns in FAMILIES:
        found = [p for p in patterns if re.search(p, text)]
        if len(found) > len(signs):
            best, signs = name, found
    return best, signs


def adapter_kind(fam: str) -> str:
    return fam if fam in ("hanweb", "trs") else "html"


def column_links(page: html.HtmlElement, base: str, host: str) -> list[Column]:
    """Links whose text names a column (信息公开目录, 通知公告, 政策文件…), in page order."""
    from urllib.parse import urljoin, urlsplit

    seen: dict[str, Column] = {}
    for a in page.iter("a"):
        name = clean(a.text_content()) or clean(a.get("title"))
        href = a.get("href") or ""
        if not name or len(name) > 12 or not href or href.startswith(("#", "javascript:")):
            continue
        url = urljoin(base, href)
        if urlsplit(url).hostname != host or _ITEM.search(url):
            continue
        if any(w in name for w in COLUMN_WORDS) and url not in seen:
            seen[url] = Column(name, url)
    return list(seen.values())


def item_links(page: html.HtmlElement, base: str, limit: int = 3) -> list[tuple[str, str]]:
    from urllib.parse import urljoin

    out: list[tuple[str, str]] = []
    for a in page.iter("a"):
        url = urljoin(base, a.get("href") or "")
        title = clean(a.get("title")) or clean(a.text_content())
        if title and _ITEM.search(url) and (title, url) not in out:
            out.append((title, url))
    for m in re.finditer(r"<a[^>]+href=['\"]([^'\"]+)['\"][^>]*title=['\"]([^'\"]+)['\"]", html.tostring(page, encoding="unicode")):
        url = urljoin(base, m.group(1))
        if _ITEM.search(url) and (m.group(2), url) not in out:
            out.append((m.group(2), url))  # records inside a <datastore> CDATA block
    return out[:limit]


def toml_block(name: str, col: Column) -> str:
    return f'[[sources]]\nname = "{name}"\nkind = "{col.kind}"\nurl = "{col.url}"\ncolumn = "tzgg"   # the channel column it feeds\n'
