"""RSS 2.0 / Atom adapter, tolerant of the feeds government portals really publish.

Feeds are parsed by the one safe XML parser (:mod:`feeds.xmlsafe`), never by an HTML parser;
only the *content* of a description (escaped HTML) goes through the HTML parser. Dates are
read by :func:`feeds.dates.parse_date`, which knows ``2026-10-04 01:39:11.0`` and
``2020年08月02日`` as well as RFC 822. With ``fetch_details`` (the default) each item's page is
read like any HTML detail page; otherwise, or when the page has no recognisable body, the
feed's own description is the body.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping

from lxml import etree

from feeds.charset import decode_html
from feeds.dates import parse_date
from feeds.extract import blocks_from, clean
from feeds.sources.common import check_status, conditional_headers, new_validators, read_detail, resolve
from feeds.urls import Origins
from feeds.xmlsafe import parse_fragment, parse_xml
from pusher.config.base import Options
from pusher.errors import ParseError
from pusher.interfaces import Block, Document, Gone, HttpClient, ListEntry, Listing, SourceSpec

ATOM = "{http://www.w3.org/2005/Atom}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
RSS1 = "{http://purl.org/rss/1.0/}"
DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


SHORT_SUMMARY = 200  # characters (spaces aside) below which a description is a teaser


class RssOptions(Options):
    fetch_details: bool = True
    max_items: int = 100
    body_xpath: str = ""


class RssSource:
    def __init__(self, spec: SourceSpec, options: RssOptions) -> None:
        self.name = spec.name
        self.spec = spec
        self.options = options
        self.origins = Origins.of(spec.allowed_hosts())
        self._summaries: dict[str, str] = {}
        # Without detail pages there is nothing to re-check conditionally (see pusher.stages.poll).
        self.reads_detail_pages = options.fetch_details

    def list(self, http: HttpClient, validators: Mapping[str, Mapping[str, str]]) -> Listing:
        url = self.spec.url
        resp = http.get(url, headers=conditional_headers(validators.get(url, {})))
        check_status(resp, self.name)
        if resp.status == 304:
            return Listing(entries=(), not_modified=True, validators={url: dict(validators.get(url, {}))}, requests=1)
        # Decode with the page rules (BOM, declaration, header, detection), then hand the XML
        # parser text it cannot misread: the declaration would name the old encoding.
        text = _XML_DECL.sub("", decode_html(resp.body, resp.headers.get("content-type", "")), count=1)
        try:
            root = parse_xml(text.encode("utf-8"), url=resp.url)
        except ParseError as exc:
            raise ParseError(str(exc).split(": ", 1)[-1], source=self.name, url=resp.url) from None
        entries: builtins.list[ListEntry] = []
        for entry, summary in self._entries(root, resp.url):
            if len(entries) >= self.options.max_items:
                break
            entries.append(entry)
            self._summaries[entry.url] = summary
        return Listing(entries=tuple(entries), validators={url: new_validators(resp)}, requests=1)

    def _entries(self, root: etree._Element, base: str) -> builtins.list[tuple[ListEntry, str]]:
        out: builtins.list[tuple[ListEntry, str]] = []
        if root.tag == f"{ATOM}feed":
            for e in root.iter(f"{ATOM}entry"):
                link = next((lk.get("href") for lk in e.iter(f"{ATOM}link") if lk.get("rel", "alternate") == "alternate"), None)
                date = e.findtext(f"{ATOM}published") or e.findtext(f"{ATOM}updated")
                summary = e.findtext(f"{ATOM}content") or e.findtext(f"{ATOM}summary") or ""
                self._add(out, base, link, e.findtext(f"{ATOM}title"), date, summary, "")
        elif root.tag == RDF:  # RSS 1.0: the same items, in their namespace
            for item in root.iter(f"{RSS1}item"):
                link = item.findtext(f"{RSS1}link") or item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
                summary = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or item.findtext(f"{RSS1}description") or ""
                self._add(out, base, link, item.findtext(f"{RSS1}title"), item.findtext(DC_DATE), summary, "")
        elif root.tag == "rss" or root.find("channel") is not None:
            for item in root.iter("item"):
                link = item.findtext("link") or (item.findtext("guid") if (item.find("guid") is not None) else None)
                date = item.findtext("pubDate") or item.findtext(DC_DATE)
                summary = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or item.findtext("description") or ""
                self._add(out, base, link, item.findtext("title"), date, summary, item.findtext("category") or "")
        else:
            raise ParseError(f"not an RSS or Atom feed (root <{root.tag}>)", source=self.name, url=base)
        return out

    def _add(
        self,
        out: builtins.list[tuple[ListEntry, str]],
        base: str,
        link: str | None,
        title: str | None,
        date: str | None,
        summary: str,
        cat: str,
    ) -> None:
        url = resolve(base, (link or "").strip(), self.origins)
        title = clean(title)
        if url and title:
            out.append((ListEntry(url=url, title=title, published=parse_date(date), column=clean(cat) or None), summary))

    def detail(self, http: HttpClient, entry: ListEntry) -> Document | Gone:
        summary = self._summaries.get(entry.url, "")
        if self.options.fetch_details:
            # A teaser is no body to fall back on: then the generic finder reads any layout.
            short = len("".join(clean(re.sub(r"<[^>]*>", "", summary)).split())) < SHORT_SUMMARY
            try:
                return read_detail(http, entry, self.name, body_xpath=self.options.body_xpath or None, find_main=short)
            except ParseError:
                if not clean(summary):
                    raise
        blocks = _summary_blocks(summary, entry.url, self.name)
        if not blocks:
            raise ParseError("the feed item has no description and no readable page", source=self.name, url=entry.url)
        return Document(url=entry.url, title=entry.title, blocks=tuple(blocks), published=entry.published, column=entry.column or "")


def _summary_blocks(summary: str, url: str, source: str) -> list[Block]:
    if not clean(summary):
        return []
    try:
        frag = parse_fragment(summary, base_url=url)
    except ParseError as exc:
        raise ParseError(str(exc).split(": ", 1)[-1], source=source, url=url) from None
    return blocks_from(frag, url)
