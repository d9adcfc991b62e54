"""Documents the renderer tests draw: the Yongkang annual report, the real portal samples,
and a long table built from a real Hanweb datastore list."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from feeds.extract import extract_document
from feeds.xmlsafe import parse_html
from pusher.interfaces import Block, Document, PageContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REFERENCE = FIXTURES / "reference" / "yongkang-2012-annual-report.txt"
SAMPLES = FIXTURES / "portal-samples"
CTX = PageContext(channel="永康政务", column="公开年报", today=date(2026, 11, 27))

# The lists (GB/T 15834, clreq), with half-width forms: an oracle independent of the code.
FORBIDDEN_START = set("，。、；：？！）》」』】〕〗…—·%") | set(",.;:?!)%")
FORBIDDEN_END = set("（《「『【〔〖") | set("(")
_HEADING = re.compile(r"^[一二三四五六七八九十]+、|^[（(][一二三四五六七八九十]+[）)][^，,。]{0,20}。?$")


@cache
def reference_doc() -> Document:
    """The annual report as the portal would give it: headings, paragraphs, metadata."""
    paras = [p.strip() for p in REFERENCE.read_text(encoding="utf-8").split("\n") if p.strip()]
    start = paras.index("永康市2012年度政府信息公开年度报告", 8)  # after the page furniture
    blocks = tuple(Block("h" if _HEADING.match(p) and len(p) < 30 else "p", p) for p in paras[start + 1 :])
    return Document(
        url="http://www.yk.gov.cn/art/2013/3/29/art_1229_123456.html",
        title=paras[start],
        blocks=blocks,
        published=datetime(2013, 3, 29, tzinfo=UTC),
        publisher="市政府及办公室",
        index_no="330784ZF060000/2013-13135",
        doc_no="永政发〔2012〕12号",
    )


@cache
def sample_docs() -> tuple[Document, ...]:
    """Every detail-page sample the extractor reads (list pages give a table body)."""
    out = []
    for f in sorted(SAMPLES.glob("*.html")):
        page = parse_html(f.read_text(encoding="utf-8"))
        out.append(extract_document(page, f"http://portal.example.gov.cn/{f.stem}.html"))
    return tuple(out)


@cache
def table_doc() -> Document:
    """A 45-row table (title, date) from the real Dingxi datastore, header row first."""
    xml = next(SAMPLES.glob("08_*.xml")).read_text(encoding="utf-8")
    rows = re.findall(r'title="([^"]+)">.*?<b>([\d-]+)</b>', xml)
    assert len(rows) >= 40
    table = Block("table", rows=(("标题", "发布日期"), *rows), header_rows=1)
    intro = Block("p", "下表列出本栏目近期公开的全部信息，按发布日期排列。")
    return Document(
        url="http://www.dingxi.gov.cn/col/col12377/index.html", title="定西市政府信息公开目录（2022年1月）", blocks=(intro, table)
    )


DEMO = Path(__file__).resolve().parents[2] / "pusher" / "demo" / "portal" / "art" / "2013" / "3" / "29" / "art_1002_13135.html"


@cache
def demo_doc() -> Document:
    """The demo portal's annual report as the extractor reads it: headings are numbered
    paragraphs, half-width punctuation, a 4-row statistics table."""
    return extract_document(parse_html(DEMO.read_text(encoding="utf-8")), "http://www.yk.gov.cn/art/2013/3/29/art_1002_13135.html")


def all_docs() -> list[Document]:
    return [reference_doc(), table_doc(), *sample_docs()]
