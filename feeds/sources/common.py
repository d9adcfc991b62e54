"""What every portal adapter shares: conditional GET, answer checks, links kept to known hosts.

An answer is content only if it looks like content. Anti-bot walls (HTTP 202/412/521 with a
JavaScript cookie challenge) and error pages served with 200 ("404 页面不存在", a page that is
nothing but script) become :class:`~pusher.errors.ChallengeError` for the source: they must
never reach the store as items.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from lxml import html

from feeds.extract import clean, extract_document, join_url
from feeds.urls import Origins, origin_of
from feeds.xmlsafe import parse_html
from pusher.errors import ChallengeError, FetchError, ParseError
from pusher.interfaces import Document, Gone, HttpClient, ListEntry, Listing, Response

CHALLENGE_STATUSES = {202, 412, 521}
# An HTTP code alone or first ("404", "404 页面不存在", "500 Internal Server Error"), or an error
# phrase; a number inside a real title ("全市500家企业…") is not one.
_ERROR_TITLE = re.compile(
    r"^\s*(400|401|403|404|410|500|502|503|504)(\s|$|[-:：_|])|页面不存在|页面未找到|找不到(该|此|您要的)?页面|页面已删除|访问出错|"
    r"出错了|系统繁忙|访问受限|禁止访问|not\s+found|forbidden|internal\s+server\s+error|service\s+unavailable",
    re.I,
)
_CHALLENGE_JS = re.compile(r"document\.cookie|location\.(href|replace|reload)|window\.onload|eval\(|\$_ts|__jsl", re.I)


def conditional_headers(validators: Mapping[str, str]) -> dict[str, str]:
    # A validator the server sent in Latin-1 or UTF-8 ("v1-é") cannot go back through httpx,
    # which encodes header values as ASCII: without it the request is merely unconditional.
    h = {}
    if validators.get("etag", "").isascii() and validators.get("etag"):
        h["If-None-Match"] = validators["etag"]
    if validators.get("last_modified", "").isascii() and validators.get("last_modified"):
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
    """Raise for anything but 2xx content or 304 (an anti-bot status is a challenge)."""
    if resp.status in CHALLENGE_STATUSES:
        raise ChallengeError(f"HTTP {resp.status}: anti-bot challenge, not content", source=source, url=resp.url)
    if resp.status == 304 or 200 <= resp.status < 300:
        return
    raise FetchError(f"HTTP {resp.status}", source=source, url=resp.url)


def page_of(resp: Response, source: str, *, require_text: bool = True) -> html.HtmlElement:
    """Parse an HTML answer, refusing error pages and (``require_text``) script-only pages."""
    text = resp.text
    try:
        page = parse_html(text, base_url=resp.url)
    except ParseError as exc:
        raise ParseError(str(exc).split(": ", 1)[-1], source=source, url=resp.url) from None
    title = clean(page.findtext(".//title"))
    if title and len(title) < 60 and _ERROR_TITLE.search(title):
        raise ChallengeError(f"error page served as content (title {title!r})", source=source, url=resp.url)
    # A real page has its 20 characters of text within its first elements: the whole tree is
    # walked (and its scripts read) only for the rare page that may have none.
    visible = _visible_text(page, enough=20)
    if require_text and len(visible) < 20:
        scripts = " ".join(s.text or "" for s in page.iter("script"))
        if (scripts.strip() or not visible) and page.find(".//body//img") is None:
            what = "anti-bot script challenge" if _CHALLENGE_JS.search(scripts) else "script-only page"
            raise ChallengeError(f"{what} served as content: no readable text", source=source, url=resp.url)
    return page


def _visible_text(page: html.HtmlElement, *, enough: int | None = None) -> str:
    """The page's visible text, cleaned; with ``enough``, as soon as it has that many characters
    (a prefix: cleaning a longer text never makes it shorter)."""
    body = page.find("body")
    root = body if body is not None else page
    parts: list[str] = []
    size, check = 0, 2 * (enough or 0)
    for el in root.iter():
        hidden = not isinstance(el.tag, str) or el.tag in ("script", "style", "noscript", "template")
        here = ("" if hidden else el.text or "") + ("" if el is root else el.tail or "")
        parts.append(here)
        if enough is not None:
            size += len(here)
            if size >= check:
                text = clean("".join(parts))
                if len(text) >= enough:
                    return text
                check = 2 * size
    return clean("".join(parts))


def resolve(base: str, href: str | None, allowed: Origins | Iterable[str]) -> str | None:
    """The absolute, percent-encoded URL of a link, or None when it is not an http(s) link to an
    allowed origin.

    Relative (``./202008/t…html``), root-relative and protocol-relative (``//host/…``) links are
    resolved against the page; a link to an origin the source does not allow (another host, or
    another port of its host: an internal service) is dropped. ``allowed`` entries are read by
    :meth:`feeds.urls.Origins.of` (the source's URL and its ``hosts``).
    """
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    url = join_url(base, href)
    if url is None:
        return None
    origins = allowed if isinstance(allowed, Origins) else Origins.of(allowed)
    if origin_of(url) is None or not origins or not origins.allows(url):
        return None
    return url.split("#", 1)[0]


def link_title(a: html.HtmlElement) -> str:
    """``@title`` over the link text: list text is often cut short with "..."."""
    title = clean(a.get("title"))
    text = clean(a.text_content())
    if title and (not text or len(title) >= len(text.rstrip(".…")) or text.endswith(("...", "…"))):
        return title
    return text or title


def dedupe(entries: Iterable[ListEntry]) -> list[ListEntry]:
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.url not in seen:
            seen.add(e.url)
            out.append(e)
    return out


@dataclass
class ColumnRead:
    """What an adapter read from one changed list page (and the further pages it fetched)."""

    entries: list[ListEntry] = field(default_factory=list)
    complete: bool = True
    requests: int = 0


def conditional_listing(
    http: HttpClient,
    source: str,
    urls: Iterable[str],
    validators: Mapping[str, Mapping[str, str]],
    read: Callable[[Response], ColumnRead],
    *,
    limit: int | None = None,
) -> Listing:
    """Fetch each list URL with its validators; ``read`` turns a changed page into entries.

    A listing is complete (missing items may count toward withdrawal) only when every list
    page was read in full this time.
    """
    entries: list[ListEntry] = []
    new_vals: dict[str, dict[str, str]] = {}
    urls = list(urls)
    unchanged, complete, requests = 0, True, 0
    for url in urls:
        resp = http.get(url, headers=conditional_headers(validators.get(url, {})))
        requests += 1
        check_status(resp, source)
        if resp.status == 304:
            unchanged += 1
            new_vals[url] = dict(validators.get(url, {}))
            continue
        new_vals[url] = new_validators(resp)
        got = read(resp)
        entries += got.entries
        complete = complete and got.complete
        requests += got.requests
    if unchanged == len(urls):
        return Listing(entries=(), not_modified=True, validators=new_vals, requests=requests)
    found = tuple(dedupe(entries))
    return Listing(entries=found[:limit] if limit else found, validators=new_vals, requests=requests, complete=complete and unchanged == 0)


def read_detail(
    http: HttpClient,
    entry: ListEntry,
    source: str,
    *,
    body_xpath: str | None = None,
    fallbacks: tuple[str, ...] | None = None,
    find_main: bool = False,
) -> Document | Gone:
    """Fetch and extract one detail page: 404/410 mean withdrawn, anything odd is an error."""
    resp = http.get(entry.url)
    if resp.status in (404, 410):
        return Gone(entry.url, resp.status)
    check_status(resp, source)
    if resp.status == 304:
        raise ParseError("unexpected 304 for a detail page", source=source, url=entry.url)
    page = page_of(resp, source)
    kwargs = {"fallback_selectors": fallbacks} if fallbacks else {}
    try:
        doc = extract_document(page, resp.url, body_xpath=body_xpath or None, title_hint=entry.title, find_main=find_main, **kwargs)
    except ParseError as exc:
        raise ParseError(str(exc).split(": ", 1)[-1], source=source, url=entry.url) from None
    # The item keeps the URL it was listed under, even if the portal redirected.
    doc = replace(doc, url=entry.url)
    if doc.published is None and entry.published is not None:
        doc = replace(doc, published=entry.published)
    if not doc.column and entry.column:
        doc = replace(doc, column=entry.column)
    return doc
