"""Decode portal pages as they really are, not as their headers claim.

Order: byte-order mark; valid UTF-8; ``<meta charset>`` / ``http-equiv`` (or an XML declaration) in the first 4 KB; the HTTP header;
then detection. GB2312 and GBK are decoded as GB18030 (their superset: portals routinely
label GBK pages gb2312 and use characters outside it). A declared charset that fails to decode
the bytes cleanly is not trusted: the next candidate is tried, so a page whose label lies is
still read right. A legacy label that *does* decode cleanly can still lie (GB18030 bytes read
as EUC-KR or Latin-1 decode without error into nonsense), so clean decodings are compared by
how much of their non-ASCII text is common Chinese; the most trusted wins ties.
"""

from __future__ import annotations

import codecs
import re

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)|^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-:.]+)""", re.I)
_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.I)
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def normalise(label: str) -> str | None:
    label = label.strip().lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(label, _SUPERSETS.get(name, name))


def candidates(body: bytes, content_type: str = "") -> list[str]:
    """Charsets to try, most trusted first (duplicates removed)."""
    out: list[str] = []
    for bom, enc in _BOMS:
        if body.startswith(bom):
            out.append(enc)
    m = _META.search(body[:4096])
    if m:
        declared = normalise((m.group(1) or m.group(2)).decode("ascii", "ignore"))
        if declared:
            out.append(declared)
    m2 = _HEADER.search(content_type)
    if m2:
        header = normalise(m2.group(1))
        # Servers send ISO-8859-1 for pages that are really UTF-8 or GBK: a Latin-1 header is
        # the weakest possible evidence, so it goes after detection below.
        if header and header != "cp1252":
            out.append(header)
    out += ["utf-8", "gb18030", "big5"]
    seen: set[str] = set()
    return [e for e in out if not (e in seen or seen.add(e))]  # type: ignore[func-returns-value]


def decode_html(body: bytes, content_type: str = "") -> str:
    cands = candidates(body, content_type)
    # Valid UTF-8 with non-ASCII bytes is near-certain evidence (GBK text almost never is valid
    # UTF-8), and it is what a page mislabelled gb2312 after a CMS migration really is.
    if not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    # The most trusted clean decoding, compared with GB18030 (what a mainland portal most
    # likely is when its label lies).
    decoded: list[str] = []
    for enc in cands:
        if decoded and enc != "gb18030":
            continue
        try:
            decoded.append(body.decode(enc).removeprefix("\ufeff"))
        except (UnicodeDecodeError, LookupError):
            continue
        if enc == "gb18030":
            break
    if decoded:
        # max() keeps the first of equals: trust order breaks ties.
        return max(decoded, key=plausibility)
    # Nothing decodes cleanly: keep what can be read rather than lose the page.
    return body.decode("gb18030", errors="replace")


def plausibility(text: str) -> float:
    """Share of the non-ASCII characters that are common Chinese (GB2312) text: 1.0 for a
    well-decoded portal page, near 0 for mojibake."""
    sample = [c for c in text[:20000] if ord(c) > 0x7F]
    if not sample:
        return 1.0
    good = 0
    for c in sample:
        try:
            c.encode("gb2312")
            good += 1
        except UnicodeEncodeError:
            pass
    return good / len(sample)
