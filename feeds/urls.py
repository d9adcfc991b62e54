"""URLs read from a portal: made valid (RFC 3986) when read, and kept to the source's origins.

- **Valid when read.** Portals link ``/art/ok[1].html``, ``?x=[1]``, ``a b.html``, ``100%.html``
  and Chinese file names. A browser sends them percent-encoded; so do we, and the item's URL is
  then one that ``xs:anyURI`` (the manifest's schema) and every HTTP client accept. Valid escapes
  stay as they are, so normalising twice changes nothing.
- **Origins, not host names.** ``127.0.0.1:8001`` and ``127.0.0.1:6379`` are the same host and
  not the same service: an allowed link, redirect or POST must match scheme, host *and* port
  (an issue-15 finding: an RSS link to another port of the portal's host put an internal
  service's text on air). A source URL or listed host without a port allows http and https on
  their default ports (80, 443: a portal's own move to https stays allowed); ``host:port`` allows
  that port for both schemes, ``scheme://host:port`` exactly that origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 sub-delims and the characters each part may hold unescaped (besides unreserved).
_SUB = "!$&'()*+,;="
_PATH_SAFE = _SUB + ":@/"
_QUERY_SAFE = _SUB + ":@/?"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

Origin = tuple[str, str, int]  # scheme, host (lower case), port


def _quote(part: str, safe: str) -> str:
    return quote(_STRAY_PERCENT.sub("%25", part), safe=safe + "%")


def normalize_url(url: str) -> str:
    """``url`` percent-encoded where RFC 3986 requires it (``[``, ``]``, spaces, a stray ``%``,
    non-ASCII), a non-ASCII host in IDNA. Raises ValueError for what is no
    URL at all (``http://[x/``, a port ``54x2``)."""
    parts = urlsplit(url)
    _ = parts.port  # raises ValueError for a port that is no number
    netloc = parts.netloc
    host = parts.hostname or ""
    if not host.isascii():
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"host {host!r} is no IDNA name: {exc}") from None
        userinfo, at, _rest = parts.netloc.rpartition("@")
        port = f":{parts.port}" if parts.port is not None else ""
        netloc = f"{userinfo}{at}{ascii_host}{port}"
    if not netloc.isascii() or re.search(r"[\s<>\"{}|\\^`]", netloc):
        raise ValueError(f"{netloc!r} is no host")
    path = _quote(parts.path.replace("\\", "/") if parts.scheme in DEFAULT_PORTS else parts.path, _PATH_SAFE)
    return urlunsplit((parts.scheme.lower(), netloc, path, _quote(parts.query, _QUERY_SAFE), _quote(parts.fragment, _QUERY_SAFE)))


def public_url(url: str) -> str:
    """``url`` without the ``user:password@`` a source URL may carry: links resolved against such a
    source inherit it, and what airs (QR codes, 原文地址, channel.xml, the exports) is public."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, the port filled in from the scheme; None for
    anything else (another scheme, no host, no URL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS[scheme]


@dataclass(frozen=True)
class Origins:
    """The origins a source may reach. Empty: no restriction (a client made for a test)."""

    allowed: frozenset[Origin] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[str]) -> Origins:
        """From the source's URL and its listed ``hosts``: ``http(s)://host[:port]/…`` is that
        origin; ``host`` is http:80 and https:443; ``host:port`` is http and https on that port."""
        out: set[Origin] = set()
        for entry in entries:
            entry = (entry or "").strip()
            if not entry:
                continue
            if "://" in entry:
                o = origin_of(entry)
                if o and urlsplit(entry).port is None:
                    # No port named: the host on the default ports, so that a portal that moves
                    # from http to https (a redirect every portal makes) is still itself.
                    out.update((s, o[1], p) for s, p in DEFAULT_PORTS.items())
                elif o:
                    out.add(o)
                continue
            for scheme, default in DEFAULT_PORTS.items():
                o = origin_of(f"{scheme}://{entry}")
                if o:
                    # "host" alone: each scheme's own default; "host:port": that port for both.
                    explicit = urlsplit(f"{scheme}://{entry}").port
                    out.add((scheme, o[1], explicit if explicit is not None else default))
        return cls(frozenset(out))

    def __bool__(self) -> bool:
        return bool(self.allowed)

    def allows(self, url: str) -> bool:
        """Whether ``url`` is an http(s) URL of an allowed origin (any, when none is listed)."""
        o = origin_of(url)
        return o is not None and (not self.allowed or o in self.allowed)

    def describe(self) -> str:
        return ", ".join(sorted(f"{s}://{h}:{p}" for s, h, p in self.allowed))
