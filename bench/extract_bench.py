"""Main-text extraction on the saved pages: quality (char F1 against the expected body) and time.

    python bench/extract_bench.py [--repeat N]

Compares the extractor (`feeds.extract.extract_document`, generic main-text finder included)
with the extractor as it was before it (CMS containers and the guessed `article` / `#content` /
`.content` selectors only) and, when they are installed, trafilatura and readability-lxml —
the libraries the generic finder was measured against. Time is per page, parse included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds import extract  # noqa: E402
from feeds.xmlsafe import parse_html  # noqa: E402
from pusher.errors import ParseError  # noqa: E402
from pusher.timeutil import local  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "pages"


def char_f1(got: str, want: str) -> float:
    """Bag-of-characters F1 over non-space characters (the measure the tests use)."""
    g, w = Counter(c for c in got if not c.isspace()), Counter(c for c in want if not c.isspace())
    common = sum((g & w).values())
    if not common:
        return 0.0
    p, r = common / sum(g.values()), common / sum(w.values())
    return 2 * p * r / (p + r)


def ours(text: str) -> str:
    doc = extract.extract_document(parse_html(text, base_url="http://x/"), "http://x/", find_main=True)
    return doc.text


def before(text: str) -> str:
    """The pre-generic extractor: first CMS/guessed container, no furniture removal."""
    page = parse_html(text, base_url="http://x/")
    for xp in extract.BODY_SELECTORS:
        for el in page.xpath(xp):
            if xp in extract.CMS_BODIES or (extract._text_len(el) and extract.link_density(el) < 0.3):
                return "\n".join(b.text or " ".join(" ".join(r) for r in b.rows) for b in extract.blocks_from(el, "http://x/"))
    raise ParseError("no article body found")


def methods() -> dict[str, Callable[[str], str]]:
    out: dict[str, Callable[[str], str]] = {"tvpusher": ours, "before": before}
    try:
        import trafilatura

        out["trafilatura"] = lambda t: trafilatura.extract(t, include_tables=True, favor_recall=True) or ""
    except ImportError:
        pass
    try:
        from readability import Document as Readable

        out["readability"] = lambda t: parse_html(Readable(t).summary(html_partial=True)).text_content()
    except ImportError:
        pass
    return out


# Which saved sites the extractor was tuned on. A held-out site is measured as first read, before
# any change it prompted (the numbers of that first run are in tests/fixtures/pages/README.md).
TUNED = {"govcn": True, "kepu": False}  # kepu: its body was never tuned on; its title and date were fixed after the first read


def labelled() -> dict[str, tuple[str, dict[str, str]]]:
    """``site/file`` → (page text, expected), from the top folder (gov.cn) and each site folder."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for exp in sorted(PAGES.rglob("expected.json")):
        site = exp.parent.name if exp.parent != PAGES else "govcn"
        for name, want in json.loads(exp.read_text(encoding="utf-8")).items():
            out[f"{site}/{name}"] = ((exp.parent / name).read_text(encoding="utf-8"), want)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    pages = labelled()
    sites = sorted({k.split("/")[0] for k in pages})
    print(f"{len(pages)} pages from {len(sites)} sites ({', '.join(sites)}), {args.repeat} runs each")
    print(
        f"{'method':<12} {'pages':<9} {'mean F1':>8} {'min F1':>8} {'F1≥0.95':>8} {'title ok':>9} {'date ok':>8}"
        f" {'ms/page':>9} {'errors':>7}"
    )
    for name, fn in methods().items():
        rows: dict[str, list[tuple[float, float, bool, bool]]] = {"tuned": [], "held out": []}
        errors = {"tuned": 0, "held out": 0}
        for key, (text, want) in pages.items():
            group = "tuned" if TUNED.get(key.split("/")[0], False) else "held out"
            try:
                got = fn(text)
            except ParseError:
                got, errors[group] = "", errors[group] + 1
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                with contextlib.suppress(ParseError):
                    fn(text)
            ms = (time.perf_counter() - t0) / args.repeat * 1000
            title, day = _title_and_day(text) if name == "tvpusher" else ("", "")
            rows[group].append((char_f1(got, want["body"]), ms, title == want["title"], day == want["date"]))
        for group, r in rows.items():
            if not r:
                continue
            f1s = [f for f, _, _, _ in r]
            ok = sum(f >= 0.95 for f in f1s)
            titles = f"{sum(t for _, _, t, _ in r)}/{len(r)}" if name == "tvpusher" else "—"
            days = f"{sum(d for _, _, _, d in r)}/{len(r)}" if name == "tvpusher" else "—"
            print(
                f"{name:<12} {group:<9} {statistics.mean(f1s):>8.3f} {min(f1s):>8.3f} {ok:>5}/{len(f1s):<2} {titles:>9} {days:>8}"
                f" {statistics.mean(m for _, m, _, _ in r):>9.2f} {errors[group]:>7}"
            )


def _title_and_day(text: str) -> tuple[str, str]:
    """The title and the publication day (in China) the extractor reads off a page."""
    doc = extract.extract_document(parse_html(text, base_url="http://x/"), "http://x/", find_main=True)
    return doc.title, local(doc.published).date().isoformat() if doc.published else ""


if __name__ == "__main__":
    main()
