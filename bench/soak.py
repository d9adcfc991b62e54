"""Soak benchmark: the real daemon (``pusher run``) against a fixture portal that publishes a new
notice every few seconds, for N minutes, at a short poll interval, delivering to a folder headend.

Prints the daemon's resident memory at start (first channel out) and at the end, its CPU
seconds, and publish-to-headend latency percentiles (from the moment a notice is on the portal
to the moment the headend's channel.xml lists it). Baseline in the same run: the poll interval,
the latency floor of any poller (a notice waits on average half an interval to be seen).

    python bench/soak.py [--minutes 10] [--every 3] [--interval 10] [--database postgresql://…] [--scrape]

``--every 0`` publishes nothing after the first channel (the daemon idles: polls, publish
rounds, heartbeats); ``--scrape`` reads /metrics and /healthz every second meanwhile.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from feeds.xmlsafe import parse_xml
from pusher.web.httpserve import StaticServer

NS = "{urn:tvpusher:channel:1}"
ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="2026-11-27 10:00"></head><body><h1>{title}</h1>
<div id="zoom"><p>　　{body}</p></div></body></html>"""
BODY = "为做好冬季安全生产工作，现将有关事项通知如下：各单位要落实主体责任，加强隐患排查，确保人民群众生命财产安全。" * 3


class Portal:
    def __init__(self, root: Path, window: int = 60) -> None:
        self.root, self.window, self.entries, self.n = root, window, [], 0
        self.write_listing()

    def publish(self) -> str:
        self.n += 1
        title = f"关于冬季安全生产工作的第{self.n}号通知"
        path = f"art/2026/11/27/art_1001_{800000 + self.n}.html"
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_text(ARTICLE.format(title=title, body=BODY), encoding="utf-8")
        self.entries.insert(0, f'<li><a href="/{path}" title="{title}">{title}</a><span>2026-11-27</span></li>')
        self.write_listing()
        return title

    def write_listing(self) -> None:
        # The list shows the newest ``window`` notices, as a portal column does.
        listing = self.root / "col/col1001/index.html"
        listing.parent.mkdir(parents=True, exist_ok=True)
        body = "\n".join(self.entries[: self.window])
        tmp = listing.with_suffix(".tmp")
        tmp.write_text(
            f'<html><head><meta charset="utf-8"></head><body><ul class="xxgk-list">\n{body}\n</ul></body></html>', encoding="utf-8"
        )
        os.replace(tmp, listing)


def config(path: Path, portal: str, work: Path, args: argparse.Namespace) -> None:
    path.write_text(f"""
[channel]
name = "测试频道"
profile = "{args.profile}"
workdir = "{work}"
database = "{args.database}"
publish_interval = {args.publish_interval}
[[columns]]
id = "tzgg"
name = "通知公告"
[[sources]]
name = "notices"
kind = "html"
url = "{portal}/col/col1001/index.html"
column = "tzgg"
interval = {args.interval}
[sources.options]
link_xpath = "//ul[contains(@class,'xxgk-list')]/li/a"
date_xpath = "../span"
[[targets]]
name = "headend"
kind = "folder"
options = {{ path = "{work}/headend" }}
[http]
delay = 0.0
[daemon]
health_listen = "{args.health}"
worker_interval = 1.0
""", encoding="utf-8")  # fmt: skip


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def titles(headend: Path) -> set[str]:
    try:
        data = (headend / "channel.xml").read_bytes()
    except FileNotFoundError:
        return set()
    return {i.findtext(f"{NS}title") or "" for i in parse_xml(data).iter(f"{NS}item")}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--every", type=float, default=3.0, help="seconds between two new notices")
    ap.add_argument("--interval", type=int, default=10, help="poll interval (the minimum the config allows)")
    ap.add_argument("--publish-interval", type=int, default=5)
    ap.add_argument("--profile", default="hd")
    ap.add_argument("--database", default="")
    ap.add_argument("--scrape", action="store_true", help="GET /metrics and /healthz every second")
    args = ap.parse_args()
    args.health = ""
    if args.scrape:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            args.health = f"127.0.0.1:{s.getsockname()[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="tvp-soak-"))
    portal = Portal(tmp / "portal")
    for _ in range(20):  # a column that already has notices
        portal.publish()
    with StaticServer(tmp / "portal") as srv:
        cfg = tmp / "soak.toml"
        config(cfg, srv.url, tmp / "work", args)
        log = open(tmp / "daemon.log", "wb")  # noqa: SIM115 - the child holds it
        proc = subprocess.Popen([sys.executable, "-m", "pusher", "run", "--config", str(cfg), "--log-json"], stdout=log, stderr=log)
        headend = tmp / "work/headend"
        start = time.monotonic()
        while len(titles(headend)) < 20:
            if time.monotonic() - start > 120 or proc.poll() is not None:
                sys.exit(f"the first channel never arrived; see {tmp / 'daemon.log'}")
            time.sleep(0.2)
        rss0, cpu0 = rss_kb(proc.pid), cpu_seconds(proc.pid)
        print(f"first channel after {time.monotonic() - start:.1f} s; RSS {rss0 / 1024:.1f} MiB", flush=True)
        published: dict[str, float] = {}
        seen: dict[str, float] = {}
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                now = time.monotonic()
                for t in titles(headend):
                    if t in published and t not in seen:
                        seen[t] = now
                time.sleep(0.1)

        scrapes = [0, 0]  # ok, failed

        def scrape() -> None:
            import httpx

            while not stop.is_set():
                for path in ("/metrics", "/healthz"):
                    try:
                        ok = httpx.get(f"http://{args.health}{path}", timeout=5).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    scrapes[0 if ok else 1] += 1
                time.sleep(1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        scraper = threading.Thread(target=scrape, daemon=True)
        if args.scrape:
            scraper.start()
        end = time.monotonic() + args.minutes * 60
        samples = []
        tick = 0
        while time.monotonic() < end:
            if args.every > 0:
                published[portal.publish()] = time.monotonic()
            tick += 1
            step = args.every if args.every > 0 else 3.0
            if tick % 20 == 0:
                samples.append(rss_kb(proc.pid))
                print(f"{len(published)} published, {len(seen)} on the headend, RSS {samples[-1] / 1024:.1f} MiB", flush=True)
            time.sleep(min(step, max(0.0, end - time.monotonic())))
        # Let the last notices arrive (two poll intervals), then stop the daemon cleanly.
        grace = time.monotonic() + 2 * args.interval + 2 * args.publish_interval + 10
        while len(seen) < len(published) and time.monotonic() < grace:
            time.sleep(0.2)
        stop.set()
        watcher.join()
        rss1, cpu1 = rss_kb(proc.pid), cpu_seconds(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(120)
    lat = [seen[t] - published[t] for t in seen]
    wall = args.minutes * 60
    print(f"\nsoak: {args.minutes:g} min, a notice every {args.every:g} s, poll every {args.interval} s, profile {args.profile}, "
          f"store {'PostgreSQL' if args.database else 'SQLite'}")  # fmt: skip
    print(f"notices published {len(published)}, on the headend {len(seen)}, missing {len(published) - len(seen)}")
    print(f"RSS start {rss0 / 1024:.1f} MiB, end {rss1 / 1024:.1f} MiB (x{rss1 / max(1, rss0):.2f}); "
          f"samples min {min(samples or [rss1]) / 1024:.1f} max {max(samples or [rss1]) / 1024:.1f} MiB")  # fmt: skip
    print(f"CPU {cpu1 - cpu0:.1f} s over {wall:.0f} s of soak ({100 * (cpu1 - cpu0) / wall:.1f}% of one core); total {cpu1:.1f} s")
    if lat:
        print(f"publish-to-headend latency: p50 {pct(lat, 50):.1f} s, p95 {pct(lat, 95):.1f} s, p99 {pct(lat, 99):.1f} s, "
              f"max {max(lat):.1f} s, mean {statistics.mean(lat):.1f} s")  # fmt: skip
        print(f"baseline: poll interval {args.interval} s (mean wait to be seen ≈ {args.interval / 2:.1f} s); "
              f"p50 / interval = {pct(lat, 50) / args.interval:.2f}")  # fmt: skip
    if args.scrape:
        print(f"scrapes of /metrics and /healthz: {scrapes[0]} answered 200, {scrapes[1]} did not")
    print(f"daemon exit code on SIGTERM: {code}; logs: {tmp / 'daemon.log'}")


if __name__ == "__main__":
    main()
