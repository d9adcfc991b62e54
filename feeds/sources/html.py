"""Generic HTML list + detail adapter, configured with XPath selectors.

For portals that are neither Hanweb nor TRS (or for a first try at one that is): list pages
are fetched with conditional GET, links are picked with ``link_xpath`` (and an optional URL
pattern), detail pages are read by :func:`feeds.extract.extract_document`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping

from feeds.dates import parse_date
from feeds.extract import clean
from feeds.sources.common import ColumnRead, conditional_listing, link_title, page_of, read_detail, resolve
from feeds.urls import Origins
from pusher.config.base import Options
from pusher.interfaces import Document, Gone, HttpClient, ListEntry, Listing, Response, SourceSpec

__all__ = ["HtmlOptions", "HtmlSource"]


class HtmlOptions(Options):
    list_urls: tuple[str, ...] = ()  # default: the source's url
    link_xpath: str = "//a[@href]"
    link_pattern: str = ""  # regex an item URL must match (e.g. "/art/\\d{4}/")
    date_xpath: str = ""  # relative to the link, e.g. "../span"
    body_xpath: str = ""
    max_items: int = 200


class HtmlSource:
    reads_detail_pages = True

    def __init__(self, spec: SourceSpec, options: HtmlOptions) -> None:
        self.name = spec.name
        self.spec = spec
        self.options = options
        self._pattern = re.compile(options.link_pattern) if options.link_pattern else None
        self.origins = Origins.of(spec.allowed_hosts())

    def list(self, http: HttpClient, validators: Mapping[str, Mapping[str, str]]) -> Listing:
        urls = self.options.list_urls or (self.spec.url,)
        return conditional_listing(http, self.name, urls, validators, lambda r: ColumnRead(self._entries(r)), limit=self.options.max_items)

    def _entries(self, resp: Response) -> builtins.list[ListEntry]:
        page = page_of(resp, self.name)
        out = []
        for a in page.xpath(self.options.link_xpath):
            url = resolve(resp.url, a.get("href"), self.origins)
            if not url or (self._pattern and not self._pattern.search(url)):
                continue
            title = link_title(a)
            date = None
            if self.options.date_xpath:
                found = a.xpath(self.options.date_xpath)
                if found:
                    date = parse_date(clean(found[0] if isinstance(found[0], str) else found[0].text_content()))
            if title:
                out.append(ListEntry(url=url, title=title, published=date))
        return out

    def detail(self, http: HttpClient, entry: ListEntry) -> Document | Gone:
        # Any layout: the generic main-text finder runs when body_xpath is not given or not found.
        return read_detail(http, entry, self.name, body_xpath=self.options.body_xpath or None, find_main=True)
