"""Hanweb jcms (大汉版通) adapter: the CMS of most Zhejiang county portals.

A column page ``/col/col{ID}/index.html`` does not list its articles as links: the first records
sit in ``<script type="text/xml"><datastore><recordset><record><![CDATA[<li>…]]>`` and the
rest come from ``/module/jpage/dataproxy.jsp`` (or ``/module/web/jpage/dataproxy.jsp``) by POST,
``?startrecord=…&endrecord=…&perpage=…`` with the form fields ``col, appid, webid, path,
columnid, unitid, webname, permissiontype`` that the page's ``<nextgroup>`` link (or its jpage
script, or the config) names. Answers are the same ``<datastore>`` XML with ``<totalrecord>``.

The column page is fetched conditionally: Hanweb regenerates it whenever the column changes,
so a 304 means the whole column is unchanged and no dataproxy request is made.
"""

from __future__ import annotations

import builtins
import logging
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from lxml import etree
from pydantic import Field

from feeds.dates import parse_date
from feeds.extract import join_url
from feeds.sources.common import ColumnRead, check_status, conditional_listing, link_title, page_of, read_detail, resolve
from feeds.urls import Origins
from feeds.xmlsafe import parse_fragment, parse_xml
from pusher.config.base import Options
from pusher.errors import ParseError
from pusher.interfaces import Document, Gone, HttpClient, ListEntry, Listing, Response, SourceSpec

log = logging.getLogger("tvpusher.sources.hanweb")

# Two searches, not one lazy "<datastore.*?</datastore>": that one rescans the rest of the page
# from every "<datastore" without a close, hours of CPU for a hostile page under the byte cap.
_DATASTORE_OPEN = re.compile(r"<datastore\b", re.I)
_DATASTORE_CLOSE = re.compile(r"</datastore>", re.I)
_PROXY = re.compile(r"""["']?((?:https?://[^"'\s]+)?/module/(?:web/)?jpage/dataproxy\.jsp)""", re.I)
_TOTAL = re.compile(r"""total[_]?record["']?\s*[:=]\s*["']?(\d+)""", re.I)
_DATE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "unitid", "webname", "permissiontype", "sourceContentType")


class HanwebOptions(Options):
    list_urls: tuple[str, ...] = ()  # column pages; default: the source's url
    max_records: int = 45  # the watched window: the column's newest N records
    perpage: int = 15  # records per jpage page; one dataproxy request asks for three pages
    proxy: str = ""  # dataproxy path; default: from the page, else /module/jpage/dataproxy.jsp
    params: dict[str, str] = Field(default_factory=dict)  # form fields (col, appid, webid, unitid, columnid…) over the page's
    body_xpath: str = ""  # default: #zoom, then the usual containers


class HanwebSource:
    reads_detail_pages = True

    def __init__(self, spec: SourceSpec, options: HanwebOptions) -> None:
        self.name = spec.name
        self.spec = spec
        self.options = options
        self.origins = Origins.of(spec.allowed_hosts())

    def list(self, http: HttpClient, validators: Mapping[str, Mapping[str, str]]) -> Listing:
        def read(resp: Response) -> ColumnRead:
            found, full, n = self._column(http, resp)
            return ColumnRead(found, full, n)

        return conditional_listing(http, self.name, self.options.list_urls or (self.spec.url,), validators, read)

    def _column(self, http: HttpClient, resp: Response) -> tuple[builtins.list[ListEntry], bool, int]:
        text = resp.text
        block = _datastore(text)
        if block is None:
            page_of(resp, self.name)  # an error or challenge page says so
            raise ParseError("no <datastore> block in the column page", source=self.name, url=resp.url)
        store = self._parse_store(block, resp.url)
        column = _column_name(text)
        entries, seen = self._records(store, resp.url, column)
        total = _int(store.findtext("totalrecord")) or _int(_first(_TOTAL, text))
        want = self.options.max_records if total is None else min(self.options.max_records, total)
        if total is None and seen < self.options.perpage * 3:
            want = seen  # the page embeds a full group (three pages) whenever there is more
        requests = 0
        if seen < want:
            proxy, form = self._proxy(store, text, resp.url)
            start = seen + 1
            group = self.options.perpage * 3
            while start <= want:
                end = start + group - 1
                query = urlencode({"startrecord": start, "endrecord": end, "perpage": self.options.perpage})
                data = {**form, "startrecord": str(start), "endrecord": str(end), "perpage": str(self.options.perpage)}
                answer = http.post(f"{proxy}?{query}", data)
                requests += 1
                check_status(answer, self.name)
                more_block = _datastore(answer.text)
                if more_block is None:
                    page_of(answer, self.name)
                    raise ParseError("dataproxy answer holds no <datastore>", source=self.name, url=answer.url)
                more_store = self._parse_store(more_block, answer.url)
                more, n = self._records(more_store, resp.url, column)
                if total is None:
                    total = _int(more_store.findtext("totalrecord"))
                    want = self.options.max_records if total is None else min(self.options.max_records, total)
                if not n:
                    break
                entries += more
                seen += n
                start = end + 1
        return entries[: self.options.max_records], seen >= want, requests

    def _parse_store(self, xml: str, url: str) -> etree._Element:
        try:
            return parse_xml(xml.encode("utf-8"), url=url)
        except ParseError as exc:
            raise ParseError(str(exc).split(": ", 1)[-1], source=self.name, url=url) from None

    def _records(self, store: etree._Element, base: str, column: str) -> tuple[builtins.list[ListEntry], int]:
        """The entries of a datastore, and how many records it held (links to foreign hosts
        are dropped but still count toward the window)."""
        out = []
        n = 0
        for rec in store.iter("record"):
            n += 1
            fragment = (rec.text or "").strip()
            if not fragment:
                continue
            try:
                frag = parse_fragment(fragment, base_url=base)
            except ParseError:
                continue  # one broken record, not a broken column
            for a in frag.iter("a"):
                url = resolve(base, a.get("href"), self.origins)
                title = link_title(a)
                if url and title:
                    # The date sits beside the link; a title may hold dates of its own.
                    # (An image link has no text: replace("", " ") would space out every digit.)
                    date = _first(_DATE, frag.text_content().replace(a.text_content() or "\0", " "))
                    out.append(ListEntry(url=url, title=title, published=parse_date(date), column=column or None))
                    break
        return out, n

    def _proxy(self, store: etree._Element, text: str, base: str) -> tuple[str, dict[str, str]]:
        form: dict[str, str] = {}
        proxy = ""
        nextgroup = store.findtext("nextgroup") or ""
        m = re.search(r"""href\s*=\s*["']([^"']+)""", nextgroup)
        if m:
            href = m.group(1).replace("&amp;", "&")
            proxy = join_url(base, href.split("?", 1)[0]) or ""
            if proxy:
                form.update({k: v for k, v in parse_qsl(urlsplit(href).query, keep_blank_values=True) if k != "page"})
        if not proxy:
            pm = _PROXY.search(text)
            proxy = (join_url(base, pm.group(1)) if pm else None) or urljoin(base, "/module/jpage/dataproxy.jsp")
        for name in _FORM_FIELDS:
            if name not in form:
                fm = re.search(rf"""\b{name}\s*[:=]\s*["']?([^"',&\s}}]+)""", text)
                if fm:
                    form[name] = fm.group(1)
        if self.options.proxy:
            proxy = urljoin(base, self.options.proxy)
        if not self.origins.allows(proxy):
            # A <nextgroup> or script naming another origin (another port of the portal's host
            # is an internal service): the form is POSTed to the column's own dataproxy instead.
            log.warning("%s: dataproxy %s is not an origin the source allows; using the column's own", self.name, proxy)
            proxy = urljoin(base, "/module/jpage/dataproxy.jsp")
        form.update(self.options.params)
        form.setdefault("col", "1")
        return proxy, form

    def detail(self, http: HttpClient, entry: ListEntry) -> Document | Gone:
        return read_detail(http, entry, self.name, body_xpath=self.options.body_xpath or None)


def _datastore(text: str) -> str | None:
    """The first ``<datastore>…</datastore>`` block of the page."""
    start = _DATASTORE_OPEN.search(text)
    end = _DATASTORE_CLOSE.search(text, start.start()) if start else None
    return text[start.start() : end.end()] if start and end else None


def _column_name(text: str) -> str:
    m = re.search(r"""<meta\s+name=["']ColumnName["']\s+content=["']([^"']*)""", text, re.I)
    return m.group(1).strip() if m else ""


def _first(rx: re.Pattern[str], text: str) -> str:
    m = rx.search(text)
    return (m.group(1) if rx.groups else m.group(0)) if m else ""


def _int(text: str | None) -> int | None:
    # isdigit() is true of "²", and int() refuses more than 4300 digits: neither is a count.
    text = (text or "").strip()
    return int(text) if text.isdecimal() and len(text) <= 9 else None
