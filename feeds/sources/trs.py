"""TRS WCM adapter: static list pages ``index.html``, ``index_1.html`` … and ``t{date}_{id}.html`` articles.

The page count comes from the page's pager script, ``createPageHTML(count, current, name,
ext)`` or the ``countPage`` / ``countnum`` variables of hand-written pagers; pages are
zero-based and the first has no suffix. Articles are linked relatively
(``./202008/t20200802_1352104.html``); bodies sit in ``.TRS_Editor`` / ``.TRS_UEDITOR``.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import html

from feeds.dates import parse_date
from feeds.extract import BODY_SELECTORS, clean
from feeds.sources.common import ColumnRead, check_status, conditional_listing, link_title, page_of, read_detail, resolve
from feeds.urls import Origins
from pusher.config.base import Options
from pusher.interfaces import Document, Gone, HttpClient, ListEntry, Listing, Response, SourceSpec

_CREATE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d{1,9})['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([^'\"]*)['\"]\s*,\s*['\"]([^'\"]*)['\"]"
)
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*['\"]?(\d{1,9})")
_DATE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
TRS_BODY = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]",
    *BODY_SELECTORS,
)


class TrsOptions(Options):
    list_urls: tuple[str, ...] = ()  # first list pages (index.html); default: the source's url
    pages: int = 2  # the watched window: the first N list pages of each list
    link_pattern: str = r"/t\d{8}_\d+\.s?html?$"  # what an article URL looks like
    body_xpath: str = ""


class TrsSource:
    reads_detail_pages = True

    def __init__(self, spec: SourceSpec, options: TrsOptions) -> None:
        self.name = spec.name
        self.spec = spec
        self.options = options
        self.origins = Origins.of(spec.allowed_hosts())
        self._pattern = re.compile(options.link_pattern)

    def list(self, http: HttpClient, validators: Mapping[str, Mapping[str, str]]) -> Listing:
        # The first page changes whenever the list does (TRS regenerates it on publish): only
        # when it did are the further pages read.
        def read(resp: Response) -> ColumnRead:
            got = ColumnRead(self._page(resp))
            for n in range(1, min(self.options.pages, _page_count(resp.text))):
                more = http.get(_nth(resp.url, n))
                got.requests += 1
                if more.status in (404, 410):
                    got.complete = False
                    break
                check_status(more, self.name)
                got.entries += self._page(more)
            return got

        return conditional_listing(http, self.name, self.options.list_urls or (self.spec.url,), validators, read)

    def _page(self, resp: Response) -> builtins.list[ListEntry]:
        page = page_of(resp, self.name)
        column = _column_name(page)
        out = []
        for a in page.iter("a"):
            url = resolve(resp.url, a.get("href"), self.origins)
            if not url or not self._pattern.search(urlsplit(url).path):
                continue
            title = link_title(a)
            if title:
                out.append(ListEntry(url=url, title=title, published=_row_date(a), column=column or None))
        return out

    def detail(self, http: HttpClient, entry: ListEntry) -> Document | Gone:
        return read_detail(http, entry, self.name, body_xpath=self.options.body_xpath or None, fallbacks=TRS_BODY)


def _page_count(text: str) -> int:
    m = _CREATE.search(text)
    if m:
        return max(1, int(m.group(1)))
    m2 = _COUNT_PAGE.search(text)
    return max(1, int(m2.group(1))) if m2 else 1


def _nth(first_url: str, n: int) -> str:
    """``…/index.html`` → ``…/index_{n}.html`` (also for a list URL that is a directory)."""
    base = first_url if not first_url.endswith("/") else first_url + "index.html"
    m = re.search(r"/([^/]*?)(_\d+)?\.(s?html?)$", base)
    if not m:
        return urljoin(base, f"index_{n}.html")
    return base[: m.start()] + f"/{m.group(1)}_{n}.{m.group(3)}"


def _row_date(a: html.HtmlElement) -> datetime | None:
    """The date in the link's table row or list item, outside the link's own text."""
    row = next((p for p in a.iterancestors() if p.tag in ("tr", "li", "dd", "p")), a.getparent())
    if row is None:
        return None
    # An image link has no text: replace("", " ") would space out every digit of the date.
    text = clean(row.text_content()).replace(clean(a.text_content()) or "\0", " ")
    m = _DATE.search(text)
    return parse_date(m.group(0)) if m else None


def _column_name(page: html.HtmlElement) -> str:
    for m in page.iter("meta"):
        if (m.get("name") or "").lower() == "columnname":
            return clean(m.get("content"))
    return ""
