"""Cold poll of an unknown-layout portal against plain sequential GETs of the same pages (issue 16:
the generic main-text finder must not make a cold poll slower than 1.5×).

The portal is built from the saved real pages (``tests/fixtures/pages``, every site), each copied
``--copies`` times under its own URL, behind one plain-HTML list page; it is served on 127.0.0.1
by a threaded server that can wait ``--latency`` ms before each answer (a real county portal
answers in tens to hundreds of ms; loopback in well under one). Each poll runs on a fresh work
directory (SQLite), so every list and detail page is fetched, extracted, classified and stored.

- ``GET``: the same URLs (list + every detail page) fetched one after the other with httpx, a new
  connection each, as the poller's client does (no keep-alive: one portal, several sources).
- ``poll generic``: an ``html`` source with no selectors: the generic finder picks the body.
- ``poll selector``: the same source with ``body_xpath`` naming each page's content cell: the
  extractor as an operator had to configure it before the generic finder.

    python bench/cold_poll_bench.py [--copies 10] [--latency 0,30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pusher.config.settings import parse_settings  # noqa: E402
from pusher.runtime import Runtime  # noqa: E402
from pusher.stages import poll_source  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "pages"
# Where each site keeps its text, as an operator would write body_xpath for it.
BODY_XPATH = (
    "//td[@id='UCAP-CONTENT'] | //div[@id='UCAP-CONTENT'] | //*[@id='zoom'] | //*[@id='fontzoom'] | //*[contains(@class,'TRS_Editor')]"
    " | //div[contains(@class,'article-content')] | //div[@id='content'] | //div[contains(@class,'content')]"
)


def pages() -> list[Path]:
    """Every labelled page: the top folder's and each site folder's (``expected.json`` beside them)."""
    out = []
    for exp in sorted(PAGES.rglob("expected.json")):
        out += [exp.parent / name for name in json.loads(exp.read_text(encoding="utf-8"))]
    return out


def build_site(copies: int) -> tuple[dict[str, bytes], list[str]]:
    files: dict[str, bytes] = {}
    items = []
    for n, page in enumerate(pages()):
        data = page.read_bytes()
        for c in range(copies):
            path = f"/art/{n:03d}_{c:03d}.html"
            files[path] = data
            items.append(f'<li><a href="{path}">保存的政府网页第{n + 1}篇副本{c + 1}</a><span>2026-11-{1 + c % 28:02d}</span></li>')
    files["/list.html"] = (
        '<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul class="list">' + "".join(items) + "</ul></body></html>"
    ).encode()
    return files, ["/list.html", *[p for p in files if p != "/list.html"]]


def serve(files: dict[str, bytes], latency: float) -> ThreadingHTTPServer:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if latency:
                time.sleep(latency)
            body = files.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def plain_gets(base: str, paths: list[str]) -> float:
    with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as c:
        t0 = time.perf_counter()
        for p in paths:
            c.get(base + p).raise_for_status()
        return time.perf_counter() - t0


def cold_poll(base: str, n_items: int, options: dict[str, Any]) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        raw = {
            "channel": {"workdir": str(Path(tmp) / "work")},
            "columns": [{"id": "tzgg", "name": "通知公告"}],
            "sources": [
                {
                    "name": "s",
                    "kind": "html",
                    "url": base + "/list.html",
                    "column": "tzgg",
                    "options": {"link_xpath": "//ul[@class='list']/li/a", "date_xpath": "../span", "max_items": n_items, **options},
                }
            ],
            "http": {"delay": 0.0},
        }
        rt = Runtime(parse_settings(raw, Path(tmp)))
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            report = poll_source(rt, "s")
            took, cpu = time.perf_counter() - t0, time.process_time() - c0
        finally:
            rt.close()
    if report.item_errors:
        raise SystemExit(f"item errors: {report.item_errors[:3]}")
    return took, cpu, report.new + report.duplicates  # copies of one page are stored as duplicates


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--latency", default="0,30", help="comma-separated ms the server waits before each answer")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    files, paths = build_site(args.copies)
    n_items = len(paths) - 1
    print(f"{n_items} detail pages ({len(pages())} saved pages x {args.copies}) + 1 list page, median of {args.repeat} runs")
    head = ("latency", "GET s", "generic s", "selector s", "generic/GET", "selector/GET", "generic/selector", "CPU gen/sel")
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, (8, 8, 10, 11, 12, 13, 17, 12), strict=True)))
    for ms in (float(x) for x in args.latency.split(",")):
        srv = serve(files, ms / 1000)
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        gen_runs, sel_runs = [], []
        try:
            get = statistics.median(plain_gets(base, paths) for _ in range(args.repeat))
            # Interleaved, so that a burst of load on the shared machine falls on both kinds alike.
            for _ in range(args.repeat):
                gen_runs.append(cold_poll(base, n_items, {}))
                sel_runs.append(cold_poll(base, n_items, {"body_xpath": BODY_XPATH}))
        finally:
            srv.shutdown()
        assert all(n == n_items for _, _, n in gen_runs + sel_runs), "every page must be stored"
        gen = statistics.median(t for t, _, _ in gen_runs)
        sel = statistics.median(t for t, _, _ in sel_runs)
        # The process's CPU time (poller and the in-process server alike): less swayed than wall
        # time by the other engineers' load.
        cpu = statistics.median(c for _, c, _ in gen_runs) / statistics.median(c for _, c, _ in sel_runs)
        print(
            f"{ms:>6.0f}ms {get:>8.2f} {gen:>10.2f} {sel:>11.2f} {gen / get:>11.2f}x {sel / get:>12.2f}x {gen / sel:>16.2f}x {cpu:>11.2f}x"
        )


if __name__ == "__main__":
    main()
