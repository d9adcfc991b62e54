"""What a portal is built with and which columns it links: the first step of configuring one.

CMS families, each recognised by what its pages carry. A *strong* sign is markup only that CMS
writes; a *weak* sign is a URL shape others imitate (the demo portal's plain lists use Hanweb's
``/col/colN/`` and ``/art/…`` paths), so weak signs alone need two of a kind to name a family:

- ``hanweb`` (大汉 jcms): strong ``<datastore>`` record block, ``dataproxy.jsp`` / ``jpage`` pager,
  ``<!--<$[…]>begin-->`` field markers, ``/module/jslib/``; weak ``/col/colN/`` column and
  ``/art/Y/M/D/art_…`` article URLs;
- ``trs`` (拓尔思 WCM): strong ``TRS_Editor`` / ``TRS_UEDITOR`` bodies, the ``createPageHTML`` /
  ``countPage`` pager; weak ``./YYYYMM/tYYYYMMDD_N.html`` article links;
- ``ucap`` (开普云): ``UCAPCONTENT`` / ``UCAP-CONTENT`` bodies (read by the ``html`` adapter);
- ``vsb`` (博达 VSB): ``vsb_content`` bodies, ``_sitegray``; weak ``/info/N/N.htm`` articles;
- anything else is ``html``.

Which adapter reads a *column* is decided by what that adapter needs on the list page itself
(:func:`column_kind`): the ``hanweb`` adapter reads a ``<datastore>`` (or its dataproxy), the
``trs`` adapter a TRS pager with ``t…`` links; any other list, whatever its URLs look like, is
read by the ``html`` adapter with the ``link_xpath`` / ``date_xpath`` :func:`html_options` finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import html

from feeds.extract import clean
from pusher.errors import TvPusherError
from pusher.interfaces import HttpClient

COLUMN_WORDS = (
    "信息公开",
    "通知公告",
    "政策文件",
    "政策解读",
    "政务公开",
    "政务服务",
    "政务动态",
    "办事指南",
    "重点领域",
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
# (family, strong signs, weak signs)
FAMILIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "hanweb",
        (r"<datastore>", r"dataproxy\.jsp", r"/module/(?:web/)?jpage/", r"<!--<\$\[", r"/module/jslib/"),
        (r"/col/col\d+/", r"/art/\d{4}/\d{1,2}/\d{1,2}/art_"),
    ),
    ("trs", (r"TRS_(?:Editor|UEDITOR)", r"countPage|createPageHTML"), (r"/t\d{8}_\d+\.s?html?",)),
    ("ucap", (r"UCAP-?CONTENT",), ()),
    ("vsb", (r"vsb_content", r"_sitegray"), (r"/info/\d+/\d+\.htm",)),
)
FAMILY_NAMES = {
    "hanweb": "大汉 jcms",
    "trs": "拓尔思 TRS WCM",
    "ucap": "开普云 UCAP",
    "vsb": "博达 VSB",
    "html": "未识别的 CMS（普通 HTML）",
}
_ITEM = re.compile(r"/t\d{8}_\d+\.s?html?|/art/\d{4}/|/info/\d+/\d+\.htm|/content_\d+\.htm|/\d{6}/[^/]+\.s?html?$|/\d{4}-\d{2}/\d{2}/")


_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}(?:\s*[-/.月]\s*\d{1,2})?")
_ITEM_TAGS = ("li", "tr", "dd", "dt")


@dataclass
class Column:
    name: str
    url: str
    kind: str = "html"
    items: list[tuple[str, str]] = field(default_factory=list)  # (title, url) of its latest items
    options: dict[str, str] = field(default_factory=dict)  # adapter options the list needs
    error: str = ""  # why the column page could not be read


def family(text: str) -> tuple[str, list[str]]:
    """The CMS family of a page and the signs that told it (strong signs count double; weak
    URL shapes alone need two)."""
    best, signs, best_score = "html", list[str](), 0
    for name, strong, weak in FAMILIES:
        s_found = [p for p in strong if re.search(p, text)]
        w_found = [p for p in weak if re.search(p, text)]
        score = 2 * len(s_found) + len(w_found)
        if score >= 2 and score > best_score:
            best, signs, best_score = name, s_found + w_found, score
    return best, signs


def adapter_kind(fam: str) -> str:
    return fam if fam in ("hanweb", "trs") else "html"


def column_kind(text: str) -> str:
    """The adapter that can read this list page: what the page carries, not what its URLs imitate."""
    if re.search(r"<datastore\b", text, re.I) or re.search(r"/module/(?:web/)?jpage/dataproxy\.jsp", text):
        return "hanweb"
    if re.search(r"createPageHTML\(|\bcountPage\s*=", text) and re.search(r"/t\d{8}_\d+\.s?html?", text):
        return "trs"
    return "html"


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


def _selector(el: html.HtmlElement) -> str:
    """An XPath step naming ``el`` by its id or first class, else by tag alone."""
    if el.get("id") and not re.search(r"\d{4,}", el.get("id") or ""):
        return f"{el.tag}[@id='{el.get('id')}']"
    cls = (el.get("class") or "").split()
    if cls:
        return f"{el.tag}[contains(@class,'{cls[0]}')]"
    return el.tag


def _item_of(a: html.HtmlElement) -> html.HtmlElement:
    el, up = a, 0
    while up < 4 and el.getparent() is not None:
        el, up = el.getparent(), up + 1
        if el.tag in _ITEM_TAGS:
            return el
    return a.getparent() if a.getparent() is not None else a


def _path_down(top: html.HtmlElement, el: html.HtmlElement) -> str:
    """The child steps from ``top`` to ``el`` (positions where siblings share a tag)."""
    steps: list[str] = []
    while el is not top and el is not None:
        parent = el.getparent()
        if parent is None:
            break
        same = [c for c in parent if c.tag == el.tag]
        steps.append(f"{el.tag}[{same.index(el) + 1}]" if len(same) > 1 and el.tag in ("td", "span", "b", "em", "i", "font") else el.tag)
        el = parent
    return "/".join(reversed(steps))


def html_options(page: html.HtmlElement, base: str, host: str) -> dict[str, str]:
    """``link_xpath`` (and ``date_xpath`` when each item carries a date) for a plain-HTML list:
    the repeated block (``li`` / ``tr`` …) holding the most same-host links with title-length
    text, named by its container's id or class so that menus and footers stay out."""
    from urllib.parse import urljoin, urlsplit

    groups: dict[tuple[html.HtmlElement, str, str], list[html.HtmlElement]] = {}
    for a in page.iter("a"):
        href = a.get("href") or ""
        title = clean(a.get("title")) or clean(a.text_content())
        if len(title) < 6 or not href or href.startswith(("#", "javascript:")):
            continue
        if urlsplit(urljoin(base, href)).hostname != host:
            continue
        item = _item_of(a)
        container = item.getparent()
        if container is None:
            continue
        if container.tag == "tbody" and container.getparent() is not None:
            container = container.getparent()
        groups.setdefault((container, item.tag, _path_down(item, a)), []).append(a)
    if not groups:
        return {}
    (container, item_tag, rel), links = max(groups.items(), key=lambda kv: (len(kv[1]), sum(len(clean(a.text_content())) for a in kv[1])))
    if len(links) < 2:
        return {}
    sel, anc = _selector(container), container
    while sel == container.tag and anc.getparent() is not None and anc.tag not in ("body", "html"):
        anc = anc.getparent()
        outer = _selector(anc)
        if outer != anc.tag:
            sel = f"{outer}//{container.tag}"
            break
    link_xpath = f"//{sel}//{item_tag}/{rel}" if rel else f"//{sel}//{item_tag}"
    if len(page.xpath(link_xpath)) < len(links):
        link_xpath = f"//{container.tag}/{item_tag}/{rel}"
    out = {"link_xpath": link_xpath}
    first = links[0]
    item = _item_of(first)
    for el in item.iter():
        if el is first or not isinstance(el.tag, str) or el in first.iterancestors() or el in first.iterdescendants():
            continue
        if el.tag in ("span", "b", "em", "i", "font", "td", "div", "p") and _DATE.fullmatch(clean(el.text_content()) or ""):
            ups = sum(1 for _ in _until(first, item))
            date_xpath = "../" * ups + _path_down(item, el)
            if all(a.xpath(date_xpath) for a in links):
                out["date_xpath"] = date_xpath
            break
    return out


def _until(el: html.HtmlElement, top: html.HtmlElement) -> list[html.HtmlElement]:
    chain = []
    while el is not top and el.getparent() is not None:
        el = el.getparent()
        chain.append(el)
    return chain


def html_items(page: html.HtmlElement, base: str, link_xpath: str, limit: int = 3) -> list[tuple[str, str]]:
    from urllib.parse import urljoin

    out: list[tuple[str, str]] = []
    for a in page.xpath(link_xpath):
        title = clean(a.get("title")) or clean(a.text_content())
        url = urljoin(base, a.get("href") or "")
        if title and (title, url) not in out:
            out.append((title, url))
    return out[:limit]


def source_name(url: str, taken: set[str]) -> str:
    """A short source name from the column URL (``/col/col1001/index.html`` → ``col1001``)."""
    from urllib.parse import urlsplit

    parts = [p for p in urlsplit(url).path.split("/") if p and not re.fullmatch(r"index(?:_\d+)?\.\w+", p)]
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", re.sub(r"\.\w+$", "", parts[-1] if parts else "home")).strip("-") or "column"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _toml_str(v: str) -> str:
    # A TOML basic string: JSON's escapes are TOML's for everything a URL or XPath holds.
    import json

    return json.dumps(v, ensure_ascii=False)


def toml_block(name: str, col: Column, channel_column: str = "") -> str:
    """A ready-to-paste ``[[sources]]`` block for one column."""
    lines = [
        "[[sources]]",
        f"name = {_toml_str(name)}",
        f"kind = {_toml_str(col.kind)}",
        f"url = {_toml_str(col.url)}",
        f"column = {_toml_str(channel_column or name)}" + ("" if channel_column else "   # 改成它播出的频道栏目（[[columns]] 的 id）"),
    ]
    if col.options:
        lines.append("options = { " + ", ".join(f"{k} = {_toml_str(v)}" for k, v in col.options.items()) + " }")
    return "\n".join(lines) + "\n"


@dataclass
class Discovery:
    url: str
    family: str
    signs: list[str]
    columns: list[Column]
    names: list[str] = field(default_factory=list)  # a source name per column


def discover(http: HttpClient, url: str, max_columns: int = 12) -> Discovery:
    """Read ``url`` (a home or column page), name its CMS, and read each column it links: its
    adapter kind, the options an ``html`` list needs, its latest items. One broken column is
    reported on it and costs the others nothing."""
    from urllib.parse import urlsplit

    from feeds.sources.common import check_status, page_of

    host = urlsplit(url).hostname or ""
    resp = http.get(url)
    check_status(resp, "discover")
    page = page_of(resp, "discover")
    fam, signs = family(resp.text)
    columns = column_links(page, resp.url, host)[:max_columns]
    pages: dict[str, tuple[str, html.HtmlElement]] = {}
    if not columns:  # a column page itself
        columns = [Column(clean(page.findtext(".//title")) or "column", resp.url)]
        pages[resp.url] = (resp.text, page)
    for c in columns:
        try:
            if c.url in pages:
                text, cpage = pages[c.url]
            else:
                r = http.get(c.url)
                check_status(r, "discover")
                text, cpage = r.text, page_of(r, "discover")
        except TvPusherError as exc:
            c.error = str(exc)
            continue
        c.kind = column_kind(text)
        if c.kind == "html":
            c.options = html_options(cpage, c.url, host)
            c.items = html_items(cpage, c.url, c.options["link_xpath"]) if c.options else []
        else:
            c.items = item_links(cpage, c.url)
    taken: set[str] = set()
    return Discovery(resp.url, fam, signs, columns, [source_name(c.url, taken) for c in columns])
