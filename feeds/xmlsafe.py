"""The one place where XML and HTML parsers are built.

XML from the outside (RSS, Hanweb datastores, a headend's answers) is parsed without entity
resolution, DTD loading or network access, and never with ``huge_tree``: a billion-laughs or
XXE document is an error, not a hang or a leak. HTML is parsed with lxml's HTML parser, which
never resolves entities from the network either.
"""

from __future__ import annotations

from lxml import etree, html

from pusher.errors import ParseError

_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False)
_XML_RECOVER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True)


def parse_xml(data: bytes, *, recover: bool = False, url: str | None = None) -> etree._Element:
    parser = _XML_RECOVER if recover else _XML
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not well-formed XML: {exc}", url=url) from None
    if root is None:
        raise ParseError("empty XML document", url=url)
    if root.getroottree().docinfo.internalDTD is not None:
        # Entities are not resolved either way; a DTD in a feed is a hostile or broken feed.
        raise ParseError("XML with a DTD is refused", url=url)
    return root


def parse_html(text: str, *, base_url: str | None = None) -> html.HtmlElement:
    if not text.strip():
        raise ParseError("empty page", url=base_url)
    try:
        return html.document_fromstring(text, base_url=base_url)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"cannot parse HTML: {exc}", url=base_url) from None


def parse_fragment(text: str, *, base_url: str | None = None) -> html.HtmlElement:
    """An HTML fragment (a Hanweb record, a feed item's description) inside a ``<div>``."""
    try:
        return html.fragment_fromstring(text, create_parent="div", base_url=base_url)
    except (etree.ParserError, ValueError, AssertionError) as exc:
        # lxml asserts on "<html></html>" and finds "<!DOCTYPE html>" an empty document.
        raise ParseError(f"cannot parse HTML fragment: {exc or type(exc).__name__}", url=base_url) from None
