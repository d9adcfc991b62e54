"""Renderer benchmark: ms and KB per page at SD/HD/FHD, against headless Chromium in the same run.

    python bench/render_bench.py [--repeat 7] [--copies 2] [--no-chromium]

The long document is the Yongkang 2012 annual report (headings and paragraphs, as the portal
gives it), ``--copies`` times over. Our figure is end to end — layout, drawing, PNG encoding —
on one core: this process pins itself to one CPU after Chromium is started, and the best of
``--repeat`` runs counts (wall and CPU time both reported; on a loaded machine trust CPU). The baseline is the same text, page
by page (the very lines our layout put on each page), as an HTML page with the same font, size,
colours and line spacing, loaded with ``set_content`` and screenshotted to PNG by headless
Chromium (Debian's /usr/bin/chromium, free to use every core), browser start not counted,
each page's best of ``--repeat``/2 passes. Two speed-ups: wall over wall, and CPU over CPU
(Chromium's counted over all its processes and the Playwright driver, read from /proc) — on a
loaded machine the CPU ratio is the steadier one.
"""

from __future__ import annotations

import argparse
import html
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "renderers"))

from render_corpus import CTX, reference_doc  # noqa: E402

from pusher.interfaces import Document, PageImage  # noqa: E402
from renderers import make_renderer  # noqa: E402
from renderers.layout import Metrics  # noqa: E402
from renderers.theme import BAND, BG, DIM, FG  # noqa: E402
from renderers.tv import PROFILES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def long_document(copies: int) -> Document:
    doc = reference_doc()
    return replace(doc, blocks=doc.blocks * copies)


def ours(profile: str, doc: Document, repeat: int) -> tuple[list[PageImage], float, float]:
    r = make_renderer(profile)
    pages = list(r.render_item(doc, CTX))  # warm: fonts opened, glyph cache filled as in a daemon
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        pages = list(r.render_item(doc, CTX))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return pages, min(wall) / len(pages) * 1000, min(cpu) / len(pages) * 1000


def css(c: tuple[int, int, int]) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


def page_html(profile: str, page: PageImage) -> str:
    """The page's lines as HTML with the renderer's geometry: header band, text, footer."""
    m = Metrics.of(PROFILES[profile])
    lines = list(page.lines)
    head, foot, body = lines[:2], lines[-2:], lines[2:-2]
    rows = "".join(f"<div>{html.escape(ln)}</div>" for ln in body)
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
html,body{{margin:0;width:{m.width}px;height:{m.height}px;overflow:hidden;background:{css(BG)};color:{css(FG)};
font-family:"Noto Sans CJK SC",sans-serif}}
.band{{position:absolute;left:0;top:0;width:100%;height:{m.band}px;background:{css(BAND)}}}
.band span{{position:absolute;top:{m.top}px;font-size:{m.small}px}}
.text{{position:absolute;left:{m.left}px;right:{m.width - m.right}px;top:{m.content_top}px;font-size:{m.body}px;
line-height:1.5;text-align:justify}}
.foot{{position:absolute;left:{m.left}px;right:{m.width - m.right}px;top:{m.footer_rule}px;border-top:{m.rule}px solid {css(DIM)};
font-size:{m.small}px;color:{css(DIM)};display:flex;justify-content:space-between}}
</style></head><body><div class="band"><span style="left:{m.left}px">{html.escape(head[0])}</span>
<span style="right:{m.width - m.right}px">{html.escape(head[1])}</span></div>
<div class="text">{rows}</div><div class="foot"><span>{html.escape(foot[0])}</span><span>{html.escape(foot[1])}</span></div>
</body></html>"""


def _descendants_cpu(reaped: bool = False) -> float:
    """CPU seconds used so far by every process below this one (Playwright's driver, Chromium's
    browser, renderer and utility processes), from /proc: the screenshot path's whole work.
    ``reaped``: with the children those processes already waited for (a pool's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2 :].split()
        children.setdefault(int(f[1]), []).append(int(d))
        stats[int(d)] = sum(int(x) for x in f[11 : 15 if reaped else 13]) / tick  # utime stime (cutime cstime)
    total, todo = 0.0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        total += stats.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


def chromium(browser, profile: str, pages: list[PageImage], repeat: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Wall ms per page (each page's best of ``repeat``, like ours), CPU ms per page summed over
    the Chromium and driver processes (mean of the passes), and mean PNG KB."""
    m = Metrics.of(PROFILES[profile])
    ctx = browser.new_context(viewport={"width": m.width, "height": m.height}, device_scale_factor=1)
    tab = ctx.new_page()
    docs = [page_html(profile, p) for p in pages]
    tab.set_content(docs[0])
    tab.screenshot(type="png")  # warm: fonts loaded
    best = [float("inf")] * len(docs)
    sizes = [0] * len(docs)
    cpu0 = _descendants_cpu()
    for _ in range(repeat):
        for k, d in enumerate(docs):
            t0 = time.perf_counter()
            tab.set_content(d)
            sizes[k] = len(tab.screenshot(type="png"))
            best[k] = min(best[k], time.perf_counter() - t0)
    cpu = (_descendants_cpu() - cpu0) / (repeat * len(docs)) * 1000
    ctx.close()
    return sum(best) / len(docs) * 1000, cpu, statistics.mean(sizes) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--no-chromium", action="store_true")
    args = ap.parse_args()
    doc = long_document(args.copies)

    pw = browser = None
    if not args.no_chromium and Path(CHROMIUM).exists():
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    print(f"document: {doc.title} ×{args.copies}, {len(doc.text)} characters; best of {args.repeat} runs, one core")
    hdr = f"{'profile':8}{'pages':>6}{'ms/page':>9}{'cpu ms':>8}{'KB/page':>9}{'KB max':>8}"
    if browser is not None:
        hdr += f"{'chr. ms':>9}{'chr. cpu':>9}{'chr. KB':>9}{'speed-up wall':>15}{'cpu':>7}"
    print(hdr)
    for profile in ("sd", "hd", "fhd"):
        pages, ms, cpu = ours(profile, doc, args.repeat)
        sizes = [len(p.png) / 1024 for p in pages]
        row = f"{profile:8}{len(pages):>6}{ms:>9.2f}{cpu:>8.2f}{statistics.mean(sizes):>9.1f}{max(sizes):>8.1f}"
        if browser is not None:
            cms, ccpu, ckb = chromium(browser, profile, pages, max(1, args.repeat // 2))
            row += f"{cms:>9.1f}{ccpu:>9.1f}{ckb:>9.1f}{cms / ms:>14.1f}×{ccpu / cpu:>6.1f}×"
        print(row, flush=True)
    if browser is not None and pw is not None:
        browser.close()
        pw.stop()


if __name__ == "__main__":
    main()
