"""Main text of a page whose layout no adapter knows: Chinese government chrome removed first,
then the container that holds the most prose picked by paragraph scoring.

The scoring is readability's (each paragraph scores its parent and, at half weight, its
grandparent; link-heavy containers are penalised), counted in Chinese punctuation rather than
commas, on our own lxml tree: the winner is an element, so :func:`feeds.extract.blocks_from`
keeps its tables, headings and images in order. trafilatura and readability-lxml were measured
on the saved pages (``bench/extract_bench.py``): see that file for why neither is the base.

Government pages wrap the article in the same furniture everywhere (breadcrumbs, 字号 大 中 小,
打印本页 / 关闭窗口, 分享到, the 扫一扫 QR block, 相关稿件, 上一篇 / 下一篇, 浏览次数 counters);
it is dropped before scoring so that it can neither win nor ride along inside the winner.
"""

from __future__ import annotations

import math
import re

from lxml import etree, html

# Short elements whose text is one of these are furniture, wherever they sit.
BOILERPLATE = re.compile(
    r"^(?:(?:您?当前(?:所在)?位置|您的位置|所在位置)\s*[:：>]?.*"
    r"|.*字号\s*[:：]?\s*[\[【（(]?\s*(?:默认|大|中|小|超大)(?:\s*[|/]?\s*(?:默认|大|中|小|超大))*\s*[\]】)）]?.*"
    r"|.*[\[【]?\s*(?:打印本页|打印此页|关闭窗口|关闭本页|返回顶部|收藏本页)\s*[\]】]?.*"
    r"|分享到\s*[:：]?.*|扫一扫在手机(?:上)?打开当前页(?:面)?.*|手机扫一扫.*|用手机扫描二维码.*"
    # The 政府网站找错 / 网站纠错 widget every government site carries (a link, nothing else).
    r"|[\[【]?\s*(?:网站纠错|我要纠错|纠错)\s*[\]】]?"
    r"|相关稿件.*|相关链接.*|相关文章.*|相关阅读.*|上一篇\s*[:：].*|下一篇\s*[:：].*|上一条\s*[:：].*|下一条\s*[:：].*"
    r"|.*(?:浏览|访问|阅读|点击)(?:次数|量)\s*[:：]\s*\d*\s*(?:次)?\s*$"
    r"|首页\s*[>›»]\s*.*)$",
    re.S,
)
# Furniture a page names in its id or class (the QR block, share bars, breadcrumbs).
_FURNITURE_ATTR = re.compile(
    r"(^|[-_\s])(share|bdshare|bdsharebuttonbox|jiathis|qr_?container|qrcode|ewm|erweima|breadcrumb|crumbs?|position|location|"
    r"weizhi|dqwz|footer|foot|header|topbar|nav|menu|fontsize|zihao|print|sidebar|related|xgwz|xgxx|pager?|prev|next|jiuc(?:uo)?)([-_\s\d]|$)",
    re.I,
)
# The site's copyright/disclaimer notice under every article: several sentences, so it reads as
# prose, but it is the site's, not the item's.
_DISCLAIMER = re.compile(r"^(?:版权与免责声明|版权及免责声明|免责声明|版权声明)[:：]?")
_PUNCT = re.compile(r"[，。；：、！？“”（）,.;]")
_SENTENCE = re.compile(r"[，。；！？,;]")
_CELL_TAGS = ("td", "th", "tr", "tbody", "thead")
_PARA_TAGS = ("p", "td", "pre", "li", "dd", "div", "section", "font", "span")
_SKIP = {"script", "style", "noscript", "iframe", "object", "button", "input", "select", "textarea", "form", "nav", "footer", "header"}
MIN_SCORE = 4.0  # below this no container holds prose: the page has no discernible main text


def _text(el: html.HtmlElement) -> str:
    return "".join((el.text_content() or "").split())


def _nonspace(text: str | None) -> int:
    return len("".join(text.split())) if text else 0


def _lengths(root: html.HtmlElement) -> dict[html.HtmlElement, tuple[int, int]]:
    """Each element's text length and linked-text length (spaces aside), in one pass: scoring
    every container by its own text_content() made the finder quadratic in the page's depth."""
    out: dict[html.HtmlElement, tuple[int, int]] = {}

    def walk(el: html.HtmlElement, in_link: bool) -> tuple[int, int]:
        link = in_link or el.tag == "a"
        own = _nonspace(el.text)
        total, linked = own, own if link else 0
        for child in el:
            if isinstance(child.tag, str):
                t, lk = walk(child, link)
                total, linked = total + t, linked + lk
            tail = _nonspace(child.tail)
            total, linked = total + tail, linked + (tail if link else 0)
        out[el] = (total, linked)
        return total, linked

    walk(root, False)
    return out


def is_boilerplate(text: str) -> bool:
    t = re.sub(r"[\s\u00a0\u3000]+", " ", text).strip()
    return bool(t) and len(t) <= 80 and bool(BOILERPLATE.match(t))


def strip_furniture(root: html.HtmlElement) -> None:
    """Remove the page furniture in place (scripts, QR and share blocks, breadcrumbs, toolbars)."""
    doomed = []
    lengths = _lengths(root)
    for el in root.iter():
        if not isinstance(el.tag, str):
            if isinstance(el, etree._Comment):
                doomed.append(el)
            continue
        if el.tag in _SKIP:
            doomed.append(el)
            continue
        attrs = f"{el.get('id') or ''} {el.get('class') or ''}"
        if attrs.strip() and _FURNITURE_ATTR.search(attrs) and lengths.get(el, (0, 0))[0] < 200:
            doomed.append(el)
            continue
        if el.tag in ("div", "p", "span", "td", "li", "a", "table", "ul", "dl", "section", "font", "strong", "b"):
            if lengths.get(el, (0, 0))[0] >= 240:
                continue  # too long to be furniture (its raw text is longer still)
            t = el.text_content() or ""
            if len(t) < 240 and is_boilerplate(t):
                doomed.append(el)
                continue
        if (
            el.tag in ("div", "section", "table", "dl", "ul")
            and lengths.get(el, (0, 0))[0] < 1000
            and _DISCLAIMER.match("".join((el.text_content() or "")[:40].split()))
        ):
            doomed.append(el)
    for el in doomed:
        _drop(el)


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    # Keep the text that follows the element: it belongs to the parent.
    tail = el.tail
    prev = el.getprevious()
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _enclosing_table(cell: html.HtmlElement) -> html.HtmlElement | None:
    for anc in cell.iterancestors():
        if anc.tag == "table":
            return anc
    return cell.getparent()


def main_content(root: html.HtmlElement) -> html.HtmlElement | None:
    """The element holding the page's main text, or None when nothing scores as prose."""
    scores: dict[html.HtmlElement, float] = {}
    prose: set[html.HtmlElement] = set()  # containers at least one sentence scored
    lengths = _lengths(root)
    for el in root.iter(*_PARA_TAGS):
        if el.tag in ("div", "section", "td", "font", "span") and any(
            isinstance(c.tag, str) and c.tag in ("p", "div", "table", "section", "ul", "ol") for c in el
        ):
            continue  # a container, not a paragraph: it is scored through its children
        total, linked = lengths.get(el, (0, 0))
        if total - linked < 10:
            continue
        own = _text(el)
        # A line with no sentence punctuation is a headline, a label or a list item, not prose:
        # it counts as one line, whatever its brackets (a sidebar of 《…（征求意见稿）》的公告
        # titles must not outweigh an article).
        sentence = bool(_SENTENCE.search(own))
        score = 1 + len(_PUNCT.findall(own)) + min(len(own) / 100, 3) if sentence else 1.0
        # A table cell scores its table, not its row: a form-like document (a 行政处罚信息公开表,
        # one short cell per row) otherwise spreads its prose over rows that each lose to any
        # sidebar list of headlines.
        parent = el.getparent()
        if parent is not None and (el.tag == "td" or parent.tag in _CELL_TAGS):
            parent = _enclosing_table(el)
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + score / 2
        if sentence:
            prose.update((parent, grand) if grand is not None else (parent,))
    best, best_score = None, 0.0
    for el, s in scores.items():
        total, linked = lengths.get(el, (0, 0))
        if not total:
            continue
        adjusted = s * (1 - linked / total)
        if el not in prose:
            adjusted /= 2  # headlines only: a list of titles (a sidebar whose items are not links)
        if adjusted > best_score:
            best, best_score = el, adjusted
    if best is None or best_score < MIN_SCORE:
        return None
    # A paragraph-level winner (a <font> or <span> wrapping the text) widens to its parent,
    # so that sibling paragraphs are not cut away.
    while best.tag in ("font", "span", "strong", "b") and best.getparent() is not None:
        best = best.getparent()
    return best


def density_score(el: html.HtmlElement) -> float:
    """The log-scaled prose weight of one element (for the benchmark and diagnostics)."""
    return math.log1p(len(_PUNCT.findall(_text(el))))


# 方正翔宇 (Founder ENP) pages carry their record in a comment after the text:
# <!--enpproperty <articleid>…</articleid><date>2023-12-01 14:43:00:0</date><title>…</title>
# <nodename>时政新闻</nodename><sourcename>新华社</sourcename>…/enpproperty-->
_ENP_FIELDS = {"title": "title", "date": "published", "nodename": "column"}
# A <title> is "article<sep>column<sep>site"; the site part names a site, not the article.
_TITLE_SEP = re.compile(r"\s*(?:_|\||｜|--?|—|–)\s*")
_SITE_WORDS = re.compile(r"(?:网|政府|门户|网站|人民政府|委员会|厅|局)$")


def comment_fields(page: html.HtmlElement) -> dict[str, str]:
    """Title, publication time and column from a CMS's record comment (Founder ENP's ``enpproperty``)."""
    out: dict[str, str] = {}
    for c in page.iter(etree.Comment):
        text = c.text or ""
        if not text.lstrip().startswith("enpproperty"):
            continue
        for tag, key in _ENP_FIELDS.items():
            m = re.search(rf"<{tag}>([^<]*)</{tag}>", text)
            if m and m.group(1).strip() and m.group(1).strip() != "null":
                out[key] = m.group(1).strip()
        break
    return out


def page_title(page: html.HtmlElement) -> str:
    """The document's ``<title>`` without the column and site names a CMS appends to it
    (``关于…的通知_通知公告_某县人民政府``, ``…座谈会-中国科普网``); a dash between digits
    (``2021-2025年``) is the title's own."""
    title = " ".join((page.findtext(".//title") or "").split())
    while True:
        seps = list(_TITLE_SEP.finditer(title))
        if not seps:
            return title
        head, tail = title[: seps[-1].start()], title[seps[-1].end() :]
        if not tail or not head or head[-1:].isdigit() or tail[:1].isdigit() or len(tail) >= len(head):
            return title
        if len(tail) > 12 and not _SITE_WORDS.search(tail):
            return title
        title = head
