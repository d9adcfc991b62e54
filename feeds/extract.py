"""Turn a portal detail page into a :class:`~pusher.interfaces.Document`.

Shared by every HTML adapter: the body container becomes blocks (paragraphs, headings,
tables, images), the "信息公开目录" metadata block and ``<meta>`` tags become fields, and links
to PDF/DOC/WPS/XLS files or ``downfile.jsp`` become attachments.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from urllib.parse import quote, urljoin

from lxml import etree, html

from feeds import generic
from feeds.dates import parse_date
from feeds.urls import normalize_url
from pusher.errors import ParseError
from pusher.interfaces import Attachment, Block, Document
from pusher.timeutil import local

# The CMSs' own body containers: trusted as they are.
CMS_BODIES = (
    "//*[@id='zoom']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]",
)
BODY_SELECTORS = (
    *CMS_BODIES,
    "//article",
    "//*[@id='content']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' content ')]",
)
FIELDS = {
    "索引号": "index_no",
    "发布机构": "publisher",
    "发文机关": "publisher",
    "信息来源": "publisher",
    "文号": "doc_no",
    "发文字号": "doc_no",
    "主题分类": "topic",
    "成文日期": "written",
    "发文日期": "written",
    "发文时间": "published",
    "发布日期": "published",
    "发布时间": "published",
    # 信息公开 metadata tables (Jiangxi's and Hainan's platforms) date an item by when it was
    # generated; it stands in for 发布日期 only when the block has no 发布日期 of its own.
    "生成日期": "generated",
    "来源": "publisher",
    "有效性": "validity",
    "名称": "title",
    "标题": "title",
}
_LOOSE_DATE = re.compile(
    r"(?:发布|更新|发表)?(?:日期|时间)\s*[:：]\s*"
    r"(\d{4}\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*日?(?:\s*\d{1,2}[:：]\d{1,2}(?::\d{1,2})?)?)"
)
NONE_VALUES = {"无", "暂无", "-", "—", "/", "空"}  # "文号：无" means there is none
ATTACHMENT = re.compile(r"(\.(pdf|docx?|wps|xlsx?|et|zip|rar|ofd)(\?|$))|downfile\.jsp", re.I)
_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
# Control characters (pasted from Word, left by a CMS): never visible, no font draws them and
# XML 1.0 cannot hold most of them, so one in a title would stop the item or the manifest.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# Invisible format characters (soft hyphen, zero-width spaces and joiners, BOM): "138\u200b1234…"
# reads as a mobile number on screen but is none to the gate's detectors.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "table",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "center",
    "tbody",
    "thead",
    "tr",
    "dl",
    "dd",
    "dt",
    "form",
}
SKIP_TAGS = {"script", "style", "noscript", "iframe", "object", "button", "input", "select", "textarea"}


def clean(text: str | None) -> str:
    """Collapse whitespace (full-width indents included: the renderer indents by itself)."""
    return _WS.sub(" ", _INVISIBLE.sub("", _CONTROL.sub("", text or ""))).strip()


def _label(text: str) -> str:
    return clean(text).replace(" ", "").rstrip("：:").strip()


def extract_document(
    page: html.HtmlElement,
    url: str,
    *,
    body_xpath: str | None = None,
    title_hint: str = "",
    fallback_selectors: Sequence[str] = BODY_SELECTORS,
    find_main: bool = False,
) -> Document:
    """``find_main``: the layout is unknown (html and rss adapters), so when neither the
    configured selector nor a CMS container is there, the main text is found by
    :mod:`feeds.generic`; the Hanweb and TRS adapters know their layouts and leave it off."""
    fields: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    _from_meta(page, fields)
    _from_markers(page, fields)
    for key, value in generic.comment_fields(page).items():  # Founder ENP's record comment
        fields.setdefault(key, value)
    _from_metadata_block(page, fields, pairs)
    body = _find_body(page, body_xpath, fallback_selectors, find_main)
    if body is not None:
        blocks = blocks_from(body, url)
        if find_main and body_xpath is None and not _is_cms_body(page, body):
            blocks = _without_furniture(blocks)
    elif fields.get("index_no") and pairs:
        # A 信息公开 page whose text lives only in its attachment: the metadata is the content.
        blocks = [Block("table", rows=tuple((k, v) for k, v in pairs), header_rows=0)]
    elif find_main and not body_xpath:
        raise ParseError("no article body found: the page has no discernible main text", url=url)
    else:
        raise ParseError("no article body found" + (f" at {body_xpath}" if body_xpath else ""), url=url)
    title = clean(fields.get("title") or title_hint)
    if not title:
        h1 = page.xpath("//h1")
        title = clean(h1[0].text_content()) if h1 else clean(generic.page_title(page))
    if not title:
        raise ParseError("no title found", url=url)
    if not blocks:
        raise ParseError("the article body is empty", url=url)
    for empty in ("doc_no", "validity", "topic", "publisher"):
        if clean(fields.get(empty)) in NONE_VALUES:
            fields[empty] = ""
    if not parse_date(fields.get("published")):
        # A bare "日期：" / "时间：" label, read only when nothing more specific said when.
        m = _LOOSE_DATE.search(clean(page.text_content())[:20000])
        if m:
            fields["published"] = m.group(1)
    written = parse_date(fields.get("written"))
    return Document(
        url=url,
        title=title,
        blocks=tuple(blocks),
        published=parse_date(fields.get("published")),
        publisher=clean(fields.get("publisher")),
        index_no=clean(fields.get("index_no")),
        doc_no=clean(fields.get("doc_no")),
        topic=clean(fields.get("topic")),
        written=local(written).date() if written else None,  # the calendar day in China, not in UTC
        validity=clean(fields.get("validity")),
        column=clean(fields.get("column")),
        attachments=tuple(attachments(page, url)),
    )


# Publication-date metas, most specific first. MakeTime / lastmodifiedtime / article:modified_time
# are when the CMS rebuilt or edited the page, not when it was published: never used.
DATE_METAS = (
    "pubdate",
    "articlepubdate",
    "firstpublishedtime",
    "publishdate",
    "publish_date",
    "article:published_time",
    "og:published_time",
    "datepublished",
    "dc.date.issued",
    "dcterms.issued",
)


def _from_meta(page: html.HtmlElement, fields: dict[str, str]) -> None:
    metas: dict[str, str] = {}
    for m in page.iter("meta"):
        key = (m.get("name") or m.get("property") or m.get("itemprop") or "").lower()
        if key and key not in metas:
            metas[key] = m.get("content") or ""
    for name, field in (("articletitle", "title"), ("contentsource", "publisher"), ("columnname", "column")):
        if clean(metas.get(name)):
            fields.setdefault(field, metas[name])
    for name in DATE_METAS:
        if parse_date(metas.get(name)):
            fields.setdefault("published", metas[name])
            break


_MARKER = re.compile(r"^<\$\[(.+?)\]>(begin|end)$")


def _from_markers(page: html.HtmlElement, fields: dict[str, str]) -> None:
    """Hanweb wraps fields in ``<!--<$[信息来源]>begin-->省发改委<!--<$[信息来源]>end-->``."""
    for c in page.iter(etree.Comment):
        m = _MARKER.match((c.text or "").strip())
        if not m or m.group(2) != "begin":
            continue
        field = FIELDS.get(m.group(1).replace(" ", ""))
        if not field or field in fields:
            continue
        parts = [c.tail or ""]
        for sib in c.itersiblings():
            if isinstance(sib, etree._Comment) and (sib.text or "").strip() == f"<$[{m.group(1)}]>end":
                break
            if isinstance(sib.tag, str):
                parts.append(sib.text_content())
            parts.append(sib.tail or "")
        value = clean("".join(parts))
        if value:
            fields[field] = value


def _from_metadata_block(page: html.HtmlElement, fields: dict[str, str], pairs: list[tuple[str, str]] | None = None) -> None:
    found: dict[str, str] = {}
    for el in page.iter("td", "th", "strong", "b", "span", "label", "dt", "em", "font"):
        label = _label(el.text_content())
        field = FIELDS.get(label)
        if not field or field in found:
            continue
        value = ""
        if el.tag in ("td", "th", "dt"):
            nxt = _next_element(el)
            value = nxt.text_content() if nxt is not None else ""
        else:
            value = (el.tail or "").lstrip(" ：:\u3000")
            if not clean(value):
                value = _after_comments(el)
            if not clean(value):
                nxt = _next_element(el)
                value = nxt.text_content() if nxt is not None and nxt.tag not in ("strong", "b") else ""
        if clean(value):
            found[field] = clean(value)
            if pairs is not None:
                pairs.append((label, clean(value)))
    # Several labels on one line ("发布机构：县住建局　发布日期：2026-11-20　浏览次数："): each
    # value runs to the next label, so neither swallows the other.
    for el in page.iter("div", "p", "span", "td", "li", "font"):
        raw = el.text_content()
        if len(raw) > 400:
            continue
        t = clean(raw)
        if len(t) > 200 or len(_INLINE_LABEL.findall(t)) < 2:
            continue
        for label, value in _inline_pairs(t):
            field = FIELDS.get(label)
            if field and field not in found and clean(value):
                found[field] = clean(value)
                if pairs is not None:
                    pairs.append((label, clean(value)))
    # Metadata written inline in one cell: "索引号: 330784ZF060000/2013-13135 发布机构: …"
    if not found.get("index_no"):
        text = clean(page.text_content())
        m = re.search(r"索\s*引\s*号\s*[:：]\s*([A-Za-z0-9\-/_.]+)", text)
        if m:
            found["index_no"] = m.group(1)
    generated = found.pop("generated", None)
    if generated and "published" not in found:
        found["published"] = generated
    for k, v in found.items():
        # The metadata block is the most specific source; it beats <meta> except for the title.
        if k == "title":
            fields.setdefault(k, v)
        elif k == "published" and _same_day(fields.get(k), v):
            continue  # the <meta> says the same day with the time of day: keep it
        else:
            fields[k] = v


_INLINE_LABEL = re.compile(
    "(" + "|".join(sorted((re.escape(k) for k in FIELDS), key=len, reverse=True)) + r"|浏览次数|访问次数|点击数|字号)\s*[:：]"
)


def _inline_pairs(text: str) -> list[tuple[str, str]]:
    marks = list(_INLINE_LABEL.finditer(text))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((m.group(1), text[m.end() : end].strip(" |　")))
    return out


def _same_day(a: str | None, b: str) -> bool:
    da, db = parse_date(a), parse_date(b)
    return da is not None and db is not None and local(da).date() == local(db).date()


def _next_element(el: html.HtmlElement) -> html.HtmlElement | None:
    """The next sibling that is an element: a comment (or a PI, which the HTML parser makes a
    comment) between a label and its value has no text_content()."""
    return next((sib for sib in el.itersiblings() if isinstance(sib.tag, str)), None)


def _after_comments(el: html.HtmlElement) -> str:
    """The text after the comments that directly follow ``el`` (``<b>文号：</b><!-- -->永政发…``)."""
    for sib in el.itersiblings():
        if isinstance(sib.tag, str):
            return ""
        if clean(sib.tail):
            return sib.tail or ""
    return ""


def _find_body(page: html.HtmlElement, body_xpath: str | None, fallbacks: Sequence[str], find_main: bool) -> html.HtmlElement | None:
    """A configured selector wins, then a CMS's own container, then (unknown layouts) the
    generic main-text finder on a copy stripped of page furniture, then the guessed selectors."""
    if body_xpath:
        found = page.xpath(body_xpath)
        return found[0] if found else None
    guessed = []
    for xp in fallbacks:
        for el in page.xpath(xp):
            if xp in CMS_BODIES:
                return el
            # A guessed container (article, #content, .content) that is largely links is page
            # chrome, not an article: a 信息公开 page whose body the portal left out looks so.
            if _text_len(el) and link_density(el) < 0.3:
                guessed.append(el)
                if not find_main:
                    return el
    if not find_main:
        return None
    stripped = copy.deepcopy(page)
    generic.strip_furniture(stripped)
    found_main = generic.main_content(stripped)
    if found_main is not None:
        return found_main
    return guessed[0] if guessed else None


def _is_cms_body(page: html.HtmlElement, el: html.HtmlElement) -> bool:
    return any(el in page.xpath(xp) for xp in CMS_BODIES)


def _without_furniture(blocks: list[Block]) -> list[Block]:
    """Furniture lines that survived inside the chosen container (a 上一篇 line under the text)."""
    return [b for b in blocks if b.kind not in ("p", "h") or not generic.is_boilerplate(b.text)]


def _text_len(el: html.HtmlElement) -> int:
    return len(clean(_visible(el)))


def _visible(el: html.HtmlElement) -> str:
    parts = [el.text or ""] if el.tag not in SKIP_TAGS else []
    for child in el:
        if isinstance(child.tag, str) and child.tag not in SKIP_TAGS:
            parts.append(_visible(child))
        parts.append(child.tail or "")
    return "".join(parts)


def link_density(el: html.HtmlElement) -> float:
    total = _text_len(el)
    linked = sum(_text_len(a) for a in el.iter("a"))
    return linked / total if total else 1.0


def blocks_from(container: html.HtmlElement, base_url: str) -> list[Block]:
    out: list[Block] = []

    def para(text: str | None) -> None:
        for line in (text or "").split("\n"):
            t = clean(line)
            if t:
                out.append(Block("p", t))

    def lines(el: html.HtmlElement) -> None:
        """Inline content as paragraphs, a short line that is bold throughout as a heading."""
        for text, bold in _bold_lines(el):
            t = clean(text)
            if t:
                out.append(Block("h" if bold and _heading_like(t) else "p", t))

    def walk(el: html.HtmlElement) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag or tag in SKIP_TAGS:
            return
        if tag == "table":
            rows = table_rows(el)
            if rows:
                out.append(Block("table", rows=rows, header_rows=1 if len(rows) > 1 else 0))
            return
        if tag == "img":
            src = join_url(base_url, el.get("src"))
            if src:
                out.append(Block("img", text=clean(el.get("alt")), src=src))
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            t = clean(el.text_content())
            if t:
                out.append(Block("h", t))
            return
        has_blocks = any(isinstance(c.tag, str) and (c.tag in BLOCK_TAGS or c.tag == "img" or _wraps_blocks(c)) for c in el)
        if not has_blocks:
            lines(el)
            for img in el.iter("img"):
                walk(img)
            return
        para(el.text)
        for child in el:
            if isinstance(child.tag, str) and (child.tag in BLOCK_TAGS or child.tag == "img" or _wraps_blocks(child)):
                walk(child)
            elif isinstance(child.tag, str) and child.tag not in SKIP_TAGS:
                lines(child)
            para(child.tail)

    walk(container)
    return out


BOLD_TAGS = ("strong", "b")
_SENTENCE_INSIDE = re.compile(r"[。！？；，,][^”’）)]")


def _wraps_blocks(el: html.HtmlElement) -> bool:
    """An element outside BLOCK_TAGS that holds paragraphs or images: a CMS's own wrapper
    (Jiangxi's ``<ucapcontent>``, a ``<font>`` or ``<span>`` around whole paragraphs). Read as
    inline, its paragraphs ran together and its images were lost."""
    if el.tag in SKIP_TAGS:
        return False
    return any(isinstance(d.tag, str) and (d.tag in BLOCK_TAGS or d.tag == "img") for d in el.iterdescendants())


def _heading_like(text: str) -> bool:
    """A bold line that reads as a heading: short, no sentence or clause inside it (a bold
    sentence of emphasis, ``请于3月1日前，…``, stays a paragraph)."""
    return len(text) <= 30 and not _SENTENCE_INSIDE.search(text)


def _bold_lines(el: html.HtmlElement) -> list[tuple[str, bool]]:
    """The inline text of ``el`` split into lines (``<br>`` and newlines, as ``para`` splits),
    each with whether all of its visible text is inside ``<strong>``/``<b>``: portals set many
    section headings as a bold paragraph (``<p><strong>工作目标</strong></p>``) or a bold lead
    line (``<strong>一、总体要求</strong><br>正文…``)."""
    texts, bold_ = [""], [True]

    def add(text: str | None, bold: bool) -> None:
        for k, part in enumerate((text or "").split("\n")):
            if k:
                texts.append("")
                bold_.append(True)
            texts[-1] += part
            if clean(part):
                bold_[-1] = bold_[-1] and bold

    def visit(node: html.HtmlElement, bold: bool) -> None:
        add(node.text, bold)
        for child in node:
            if isinstance(child.tag, str) and child.tag not in SKIP_TAGS:
                if child.tag == "br":
                    add("\n", bold)
                elif child.tag != "img":
                    visit(child, bold or child.tag in BOLD_TAGS)
            add(child.tail, bold)

    visit(el, el.tag in BOLD_TAGS)
    return [(t, b and bool(clean(t))) for t, b in zip(texts, bold_, strict=True)]


def table_rows(table: html.HtmlElement) -> tuple[tuple[str, ...], ...]:
    rows: list[tuple[str, ...]] = []
    for tr in table.iter("tr"):
        if tr.getparent() is not None and _nearest_table(tr) is not table:
            continue  # a row of a nested table: its text is already in the outer cell
        cells = tuple(clean(td.text_content()) for td in tr if isinstance(td.tag, str) and td.tag in ("td", "th"))
        if any(cells):
            rows.append(cells)
    return tuple(rows)


def _nearest_table(el: html.HtmlElement) -> html.HtmlElement | None:
    p = el.getparent()
    while p is not None and p.tag != "table":
        p = p.getparent()
    return p


def join_url(base: str, href: str | None) -> str | None:
    """``href`` made absolute and valid (:func:`feeds.urls.normalize_url`: ``ok[1].html`` is
    ``ok%5B1%5D.html``), or None when there is none or it is no URL (``http://[x`` makes urljoin
    raise: one broken link must not cost the page)."""
    if not href:
        return None
    # As browsers do: tabs and newlines are dropped, other controls percent-encoded.
    href = _CONTROL.sub(lambda m: quote(m.group()), re.sub(r"[\t\n\r]", "", href.strip()))
    try:
        return normalize_url(urljoin(base, href))
    except ValueError:
        return None


def attachments(page: html.HtmlElement, base_url: str) -> list[Attachment]:
    seen: set[str] = set()
    out: list[Attachment] = []
    for a in page.iter("a"):
        href = a.get("href") or ""
        if not ATTACHMENT.search(href):
            continue
        url = join_url(base_url, href)
        if not url or url in seen:
            continue
        seen.add(url)
        out.append(Attachment(name=clean(a.get("title") or a.text_content()) or url.rsplit("/", 1)[-1], url=url))
    return out
