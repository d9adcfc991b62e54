"""Generic HTML list + detail adapter, configured with XPath selectors.

For portals that are neither Hanweb nor TRS (or for a first try at one that is): list pages
are fetched with conditional GET, links are picked with ``link_xpath`` (and an optional URL
pattern), detail pages are read by :func:`feeds.extract.extract_document`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from pusher.config import SourceSettings
from pusher.errors import FetchError, ParseError
from pusher.interfaces import Document, Gone, HttpClient, ListEntry, Listing, Response
from pusher.registry import SOURCES, Options

from ..extract import clean, extract_document
from ..xmlsafe import parse_html


class HtmlOptions(Options):
    list_urls: tuple[str, ...] = ()  # default: the source's url
    link_xpath: str = "//a[@href]"
    link_pattern: str = ""  # regex an item URL must match (e.g. "/art/\\d{4}/")
    date_xpath: str = ""  # relative to the link's parent, e.g. "following-sibling::span"
    body_xpath: str = ""
    max_items: int = 200


def conditional_headers(validators: Mapping[str, str]) -> dict[str, str]:
    h = {}
    if validators.get("etag"):
        h["If-None-Match"] = validators["etag"]
    if validators.get("last_modified"):
        h["If-Modified-Since"] = validators["last_modified"]
    return h


def new_validators(resp: Response) -> dict[str, str]:
    out = {}
    if resp.headers.get("etag"):
        out["etag"] = resp.headers["etag"]
    if resp.headers.get("last-modified"):
        out["last_modified"] = resp.headers["last-modified"]
    return out


def check_status(resp: Response, source: str) -> None:
    if resp.status == 304 or (200 <= resp.status < 300 and resp.status != 202):
        return
    raise FetchError(f"HTTP {resp.status}", source=source, url=resp.url)


@SOURCES.register("html", HtmlOptions, "generic HTML list + detail pages picked by XPath")
class HtmlSource:
    def __init__(self, settings: SourceSettings, options: HtmlOptions) -> None:
        self.name = settings.name
        self.settings = settings
        self.options = options
        self._pattern = re.compile(options.link_pattern) if options.link_pattern else None
        self._host = urlsplit(settings.url).hostname

    def list(self, http: HttpClient, validators: Mapping[str, Mapping[str, str]]) -> Listing:
        urls = self.options.list_urls or (self.settings.url,)
        entries: list[ListEntry] = []
        new_vals: dict[str, dict[str, str]] = {}
        unchanged = 0
        for url in urls:
            resp = http.get(url, headers=conditional_headers(validators.get(url, {})))
            check_status(resp, self.name)
            if resp.status == 304:
                unchanged += 1
                new_vals[url] = dict(validators.get(url, {}))
                continue
            new_vals[url] = new_validators(resp)
            entries += self._entries(resp)
        if unchanged == len(urls):
            return Listing(entries=(), not_modified=True, validators=new_vals, requests=len(urls))
        return Listing(
            entries=tuple(_dedupe(entries))[: self.options.max_items], validators=new_vals, requests=len(urls), complete=unchanged == 0
        )

    def _entries(self, resp: Response) -> list[ListEntry]:
        page = parse_html(resp.text, base_url=resp.url)
        out = []
        for a in page.xpath(self.options.link_xpath):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            url = urljoin(resp.url, href)
            if self._pattern and not self._pattern.search(url):
                continue
            if urlsplit(url).hostname not in {self._host, *self.settings.hosts}:
                continue
            title = clean(a.get("title")) or clean(a.text_content())
            date = None
            if self.options.date_xpath:
                from ..dates import parse_date

                found = a.xpath(self.options.date_xpath)
                date = parse_date(clean(found[0] if isinstance(found[0], str) else found[0].text_content())) if found else None
            if title:
                out.append(ListEntry(url=url, title=title, published=date))
        return out

    def detail(self, http: HttpClient, entry: ListEntry) -> Document | Gone:
        resp = http.get(entry.url)
        if resp.status in (404, 410):
            return Gone(entry.url, resp.status)
        check_status(resp, self.name)
        if resp.status == 304:
            raise ParseError("unexpected 304 for a detail page", source=self.name, url=entry.url)
        page = parse_html(resp.text, base_url=resp.url)
        try:
            doc = extract_document(page, resp.url, body_xpath=self.options.body_xpath or None, title_hint=entry.title)
        except ParseError as exc:
            raise ParseError(str(exc).split(": ", 1)[-1], source=self.name, url=entry.url) from None
        if doc.published is None and entry.published is not None:
            from dataclasses import replace

            doc = replace(doc, published=entry.published)
        return doc


def _dedupe(entries: list[ListEntry]) -> list[ListEntry]:
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.url not in seen:
            seen.add(e.url)
            out.append(e)
    return out
