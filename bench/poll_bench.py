"""Poll benchmark: what an idle poll costs, and how fast a cold crawl goes.

1. **Idle poll of 50 unchanged sources.** 50 Hanweb-style columns (45 records each), each on its
   own loopback host (127.0.0.2 … 127.0.0.51), default politeness (2 per host, 0.2 s apart). A
   cold poll fills the store; the idle poll that follows should cost one conditional request
   per source, all answered 304. Wall time and requests, sequential (one source after the
   other) and with 8 sources at a time (as the daemon's thread pool runs them). Baseline in the
   same run: the cold poll of the same sources.
2. **Cold crawl of a 2,000-item portal.** One TRS-style source: 100 list pages
   (``index.html`` … ``index_99.html``, ``createPageHTML``) of 20 articles each; every list page
   and detail page is read, extracted, classified and stored. Items/s, with the per-host delay
   at 0 (politeness would otherwise be the whole story: 0.2 s × 2,100 requests), reading one
   detail page at a time (``per_host`` 1) and four (``per_host`` 4), on an HTTP/1.1 server
   (keep-alive) that waits ``--latency`` ms before each answer (a county portal is tens of ms
   away; loopback is not). Baseline in the same run: plain sequential keep-alive httpx GETs of
   the same 2,100 pages, the floor a poller reading one page at a time pays.

    python bench/poll_bench.py [--sources 50] [--items 2000] [--latency 0,20] [--skip-idle]
"""

from __future__ import annotations

import argparse
import html
import logging
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from pusher.config.settings import parse_settings
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.web.httpserve import StaticServer

COLUMNS = [{"id": "zwgk", "name": "政府信息公开"}]
_hits = 0
_hits_lock = threading.Lock()


class _Counting(SimpleHTTPRequestHandler):
    """Static files with Last-Modified / 304, counting what reaches the servers."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        global _hits
        with _hits_lock:
            _hits += 1
        super().send_response(code, message)


class _Slow(_Counting):
    """HTTP/1.1 (connections kept alive) and ``latency`` seconds before each answer."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle + delayed ACK cost 40 ms each
    latency = 0.0

    def do_GET(self) -> None:
        if self.latency:
            time.sleep(self.latency)
        super().do_GET()


def article(title: str, date: str, aid: int, body_class: str) -> str:
    paras = "".join(f"<p>　　{title}第{k}段：根据有关规定，现将相关事项公告如下，请各单位认真贯彻执行。</p>" for k in range(1, 6))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{date} 09:30"><meta name="ColumnName" content="通知公告"><title>{html.escape(title)}</title></head>
<body><div class="nav"><a href="/">首页</a> &gt; <a href="../">通知公告</a></div>
<table class="xxgk"><tr><td>索引号</td><td>330784/{date[:4]}-{aid}</td><td>发布机构</td><td>市政府办公室</td></tr>
<tr><td>文号</td><td>永政办发〔2026〕{aid % 100}号</td><td>主题分类</td><td>综合政务</td></tr></table>
<h1>{html.escape(title)}</h1><div {body_class}>{paras}</div><div class="foot">主办：永康市人民政府办公室</div></body></html>"""


def hanweb_site(root: Path, col: int, n: int = 45) -> None:
    recs = []
    for i in range(n):
        aid = col * 1000 + i
        day = 1 + i % 28
        title = f"第{col}栏目关于2026年第{i + 1}批事项的公告"
        path = f"art/2026/11/{day}/art_{col}_{aid}.html"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(article(title, f"2026-11-{day:02d}", aid, 'id="zoom"'), encoding="utf-8")
        recs.append(f'<record><![CDATA[<li><a href="/{path}" title="{title}">{title[:14]}...</a><b>2026-11-{day:02d}</b></li>]]></record>')
    page = f"""<html><head><meta charset="utf-8"><meta name="ColumnName" content="通知公告"><title>通知公告</title></head>
<body><div>首页 &gt; 通知公告</div><script type="text/xml"><datastore><totalrecord>{n}</totalrecord>
<recordset>{"".join(recs)}</recordset></datastore></script></body></html>"""
    (root / f"col/col{col}").mkdir(parents=True, exist_ok=True)
    (root / f"col/col{col}/index.html").write_text(page, encoding="utf-8")


def trs_site(root: Path, items: int, per_page: int = 20) -> list[str]:
    pages = (items + per_page - 1) // per_page
    paths = []
    for p in range(pages):
        rows = []
        for k in range(per_page):
            i = p * per_page + k
            if i >= items:
                break
            day = 1 + i % 28
            href = f"./202611/t202611{day:02d}_{100000 + i}.html"
            title = f"永康市关于2026年第{i + 1}号事项的通知"
            (root / "202611").mkdir(parents=True, exist_ok=True)
            (root / href).write_text(article(title, f"2026-11-{day:02d}", 100000 + i, 'class="TRS_Editor"'), encoding="utf-8")
            rows.append(f'<tr><td><a href="{href}" title="{title}">{title}</a></td><td>2026-11-{day:02d}</td></tr>')
            paths.append(href[2:])
        name = "index.html" if p == 0 else f"index_{p}.html"
        (root / name).write_text(
            f"""<html><head><meta charset="utf-8"><title>信息公开</title></head><body><table>{"".join(rows)}</table>
<script>createPageHTML({pages}, {p}, "index", "html");</script></body></html>""",
            encoding="utf-8",
        )
        paths.append(name)
    return paths


def runtime(tmp: Path, sources: list[dict[str, Any]], http: dict[str, Any]) -> Runtime:
    raw = {"channel": {"workdir": str(tmp / "work")}, "columns": COLUMNS, "sources": sources, "http": http}
    return Runtime(parse_settings(raw, tmp))


def poll_all(rt: Runtime, names: list[str], workers: int) -> tuple[float, int, int, list[Any]]:
    global _hits
    _hits = 0
    t0 = time.perf_counter()
    if workers == 1:
        reports = [poll_source(rt, n) for n in names]
    else:
        with ThreadPoolExecutor(workers) as pool:
            reports = list(pool.map(lambda n: poll_source(rt, n), names))
    return time.perf_counter() - t0, sum(r.requests for r in reports), _hits, reports


def idle_bench(tmp: Path, n: int) -> None:
    servers = []
    sources = []
    for k in range(n):
        root = tmp / f"site{k}"
        hanweb_site(root, 1000 + k)
        srv = StaticServer(root, host=f"127.0.0.{k + 2}", handler=_Counting).start()
        servers.append(srv)
        sources.append({"name": f"s{k}", "kind": "hanweb", "url": f"{srv.url}/col/col{1000 + k}/index.html", "column": "zwgk"})
    rt = runtime(tmp / "idle", sources, {})  # default politeness: 2 per host, 0.2 s apart
    names = [s["name"] for s in sources]
    try:
        cold_t, cold_req, _, cold = poll_all(rt, names, 8)
        items = sum(r.new for r in cold)
        print(f"cold poll, {n} sources x 45 items, 8 at a time: {cold_t:.2f} s, {cold_req} requests, {items} items stored")
        for workers in (1, 8):
            # Polls are minutes apart in service: let the per-host delay of the last poll pass.
            time.sleep(rt.settings.http.delay + 0.05)
            t, req, hits, reports = poll_all(rt, names, workers)
            statuses = {r.status for r in reports}
            print(
                f"idle poll, {n} sources, {workers} at a time: {t * 1000:.0f} ms wall, {req} requests "
                f"({hits} reached the servers, statuses {sorted(statuses)}), "
                f"{t / n * 1000:.1f} ms per source; vs cold: {cold_t / t:.0f}x faster, {cold_req / max(req, 1):.0f}x fewer requests"
            )
    finally:
        rt.close()
        for srv in servers:
            srv.stop()


def crawl_bench(tmp: Path, items: int, latency_ms: float) -> None:
    root = tmp / f"trs{latency_ms:g}" / "xxgk"
    root.mkdir(parents=True)
    paths = trs_site(root, items)
    handler = type("Slow", (_Slow,), {"latency": latency_ms / 1000})
    with StaticServer(root.parent, handler=handler) as srv:
        with httpx.Client() as c:
            t0 = time.perf_counter()
            for p in paths:
                c.get(f"{srv.url}/xxgk/{p}").raise_for_status()
            raw_t = time.perf_counter() - t0
        pages = (items + 19) // 20
        src = {"name": "trs", "kind": "trs", "url": f"{srv.url}/xxgk/index.html", "column": "zwgk", "options": {"pages": pages}}
        print(f"latency {latency_ms:g} ms: raw GET baseline {len(paths)} pages in {raw_t:.2f} s = {len(paths) / raw_t:.0f} pages/s "
              "(sequential keep-alive httpx, no parsing, no store)")  # fmt: skip
        for per_host in (1, 4):
            rt = runtime(tmp / f"crawl{latency_ms:g}-{per_host}", [src], {"delay": 0.0, "per_host": per_host})
            try:
                c0 = time.process_time()
                t, req, _, (report,) = poll_all(rt, ["trs"], 1)
                cpu = time.process_time() - c0
                time.sleep(0.05)
                idle_t, idle_req, _, _ = poll_all(rt, ["trs"], 1)
            finally:
                rt.close()
            print(f"  cold crawl, per_host {per_host}: {report.new} items in {t:.2f} s = {report.new / t:.0f} items/s, {req} requests, "
                  f"{len(report.item_errors)} item errors, CPU {cpu:.2f} s (server included); {t / raw_t:.2f}x the raw GET time; "
                  f"idle re-poll {idle_t * 1000:.0f} ms, {idle_req} request(s)")  # fmt: skip
            for e in report.item_errors[:3]:
                print(f"    item error: {e}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=50)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--latency", default="0,20", help="comma-separated ms the crawl's server waits before each answer")
    ap.add_argument("--skip-idle", action="store_true", help="only the cold crawl")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="tvp-pollbench-") as d:
        tmp = Path(d)
        if not args.skip_idle:
            idle_bench(tmp, args.sources)
        for ms in (float(x) for x in args.latency.split(",")):
            crawl_bench(tmp, args.items, ms)


if __name__ == "__main__":
    main()
