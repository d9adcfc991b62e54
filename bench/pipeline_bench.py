"""Pipeline benchmark: one full round (poll → screen → render → publish → deliver) over a
generated portal of N items served on loopback, time per stage, and a second (idle) round.

Baseline in the same run: plain sequential httpx GETs of the same list and detail pages, the
floor any poller pays for the network.

    python bench/pipeline_bench.py [--items 200] [--status] [--keep DIR] [--idle-rounds K] [--profile FILE]
                                   [--rss] [--portal-in-process]

The portal is served by a process of its own, as a real portal is another machine's: served
from a thread of this one (``--portal-in-process``, the bench before stop 25) its Python shared
one interpreter lock with the poller, and the poll and the GETs baseline paid for both.

``--status`` prints what ``pusher status`` shows an operator for the channel the round built.
``--keep DIR`` builds the portal and the workdir in DIR and leaves them there; given a DIR a
previous ``--keep`` filled, the full round is skipped and only idle rounds run (to iterate on
the idle round at a large N without paying the full round each time). ``--idle-rounds K`` runs
K idle rounds (the first follows the full round; later ones show the steady state), and
``--profile FILE`` writes a cProfile of the last idle round to FILE (with ``--profile-stage S``,
of stage S of the full round instead). ``--rss`` prints the peak
resident memory of each stage of the full round (the kernel's high-water mark, reset before
each stage), of the whole round, and of the largest render worker process.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from pusher.config.settings import parse_settings
from pusher.demo import PORTAL, demo_config, write_config
from pusher.runtime import Runtime
from pusher.stages import deliver, poll_source, publish, quiet, render_items, screen_items
from pusher.web.httpserve import StaticServer

TEMPLATE = "art/2026/11/20/art_1001_5101.html"


def make_portal(root: Path, n: int) -> list[str]:
    """The sample portal plus n generated notices in column 1001."""
    shutil.copytree(PORTAL, root)
    html = (root / TEMPLATE).read_text(encoding="utf-8")
    lis = []
    urls = []
    for i in range(n):
        title = f"关于2026年冬季森林防火工作的第{i + 1}号通告"
        path = f"art/2026/11/20/art_1001_{700000 + i}.html"
        (root / path).write_text(html.replace("关于2026年冬季森林防火工作的通告", title).replace("5101", str(700000 + i)), encoding="utf-8")
        lis.append(f'<li><a href="/{path}" title="{title}">{title}</a><span>2026-11-20</span></li>')
        urls.append("/" + path)
    listing = root / "col/col1001/index.html"
    text = listing.read_text(encoding="utf-8")
    listing.write_text(text.replace('<ul class="xxgk-list">\n', '<ul class="xxgk-list">\n' + "\n".join(lis) + "\n"), encoding="utf-8")
    return urls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--status", action="store_true", help="print `pusher status` of the channel after the rounds")
    ap.add_argument("--keep", type=Path, help="build in this folder and keep it; reuse it (idle rounds only) if it is filled")
    ap.add_argument("--idle-rounds", type=int, default=1, help="idle rounds to run and time")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the last idle round here")
    ap.add_argument(
        "--profile-stage", choices=("poll", "screen", "render", "publish", "deliver"), help="--profile this stage of the full round"
    )
    ap.add_argument("--rss", action="store_true", help="peak RSS of each stage of the full round")
    ap.add_argument("--portal-in-process", action="store_true", help="serve the portal from a thread of this process")
    args = ap.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="tvp-bench-"))
    reuse = (tmp / "work").is_dir()
    if reuse:
        urls = [str(p.relative_to(tmp / "portal")) for p in (tmp / "portal" / "art/2026/11/20").glob("art_1001_7*.html")]
        args.items = len(urls)
    else:
        urls = make_portal(tmp / "portal", args.items)
    # A kept workdir's items know the portal by its port: serve it there again.
    port = int(_stored_url(tmp / "work").rsplit(":", 1)[1]) if reuse else 0
    with _portal(tmp / "portal", port, separate=not args.portal_in_process) as srv:
        cfg = demo_config(srv.url, tmp / "work")
        cfg["sources"] = [s for s in cfg["sources"] if s["name"] == "notices"]
        cfg["sources"][0]["options"]["max_items"] = args.items + 50
        rt = Runtime(parse_settings(cfg, tmp))
        times: dict[str, float] = {}
        baseline = 0.0
        if not reuse:
            t0 = time.perf_counter()
            with httpx.Client() as c:
                c.get(srv.url + "/col/col1001/index.html")
                for u in urls:
                    c.get(srv.url + u)
            baseline = time.perf_counter() - t0
            rss = _Rss() if args.rss else None
            for name, fn in (
                ("poll", lambda: poll_source(rt, "notices")),
                ("screen", lambda: screen_items(rt, limit=100000)),
                ("render", lambda: render_items(rt, limit=100000)),
                ("publish", lambda: publish(rt)),
                ("deliver", lambda: deliver(rt)),
            ):
                if rss:
                    rss.start()
                prof = cProfile.Profile() if args.profile and args.profile_stage == name else None
                t = time.perf_counter()
                result = prof.runcall(fn) if prof else fn()
                times[name] = time.perf_counter() - t
                if prof:
                    prof.dump_stats(str(args.profile))
                print(f"{name:8s} {times[name]:7.2f} s   {result!r:.100}" + (rss.stop() if rss else ""))
            if rss:
                print(rss.summary())
        total = sum(times.values())
        # Each stage of the idle round timed, so that what still scales with the items shows.
        rounds: list[dict[str, float]] = []
        for k in range(args.idle_rounds):
            prof = cProfile.Profile() if args.profile and not args.profile_stage and k == args.idle_rounds - 1 else None
            idle_ms: dict[str, float] = {}
            for name, fn in (
                ("poll", lambda: poll_source(rt, "notices")),
                ("screen", lambda: screen_items(rt)),
                ("render", lambda: render_items(rt)),
                ("publish", lambda: publish(rt)),
            ):
                t = time.perf_counter()
                if prof:
                    prof.enable()
                idle_publish = fn()
                if prof:
                    prof.disable()
                idle_ms[name] = (time.perf_counter() - t) * 1000
            rounds.append(idle_ms)
            if prof:
                prof.dump_stats(str(args.profile))
        idle = sum(rounds[0].values()) / 1000
        # The same-run baseline: the idle publish as it was before it could skip (it plans the
        # whole channel to find it unchanged).
        quiet.forget(rt)
        t = time.perf_counter()
        replanned = publish(rt)
        planning_ms = (time.perf_counter() - t) * 1000
        rt.close()
        if args.status:
            conf = write_config(cfg, tmp / "work" / "tvpusher.toml")
            cmd = [sys.executable, "-m", "pusher", "status", "--config", str(conf)]
            print(subprocess.run(cmd, capture_output=True, text=True, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"}).stdout)
    n = args.items + 6
    if not reuse:
        print(f"\nitems {n}; full round {total:.2f} s = {n / total:.1f} items/s")
        print(
            f"poll {times['poll']:.2f} s vs plain sequential GETs of the same pages {baseline:.2f} s (ratio {times['poll'] / baseline:.2f})"
        )
    print(f"idle round (portal unchanged): {idle * 1000:.0f} ms, new channel version: {idle_publish is not None}")
    for k, idle_ms in enumerate(rounds, 1):
        total_ms = sum(idle_ms.values())
        print(f"idle round {k} by stage: {total_ms:.0f} ms = " + ", ".join(f"{s} {v:.0f} ms" for s, v in idle_ms.items()))
    # The last idle round: with --keep reusing a workdir, the first is this process's first plan.
    skipped = rounds[-1]["publish"]
    print(
        f"idle publish planning the channel again (no skip): {planning_ms:.0f} ms, new version: {replanned is not None}; "
        f"skipped, last idle round: {skipped:.0f} ms (ratio {planning_ms / max(skipped, 0.001):.0f})"
    )
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _portal(root: Path, port: int, *, separate: bool) -> Iterator[StaticServer]:
    """The portal's server, bound here; with ``separate`` it serves from a forked process."""
    srv = StaticServer(root, port=port)
    if not separate:
        with srv:
            yield srv
        return
    pid = os.fork()
    if pid == 0:  # the child serves until it is told to stop
        try:
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            srv.httpd.serve_forever()
        finally:
            os._exit(0)
    srv.httpd.socket.close()  # the child's copy accepts
    try:
        yield srv
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


class _Rss:
    """Peak resident memory by stage (MB): VmHWM, reset before each stage by writing 5 to
    /proc/self/clear_refs; where the kernel refuses, the peak so far (said so)."""

    def __init__(self) -> None:
        self.peak, self.reset = 0, True

    @staticmethod
    def _mb(key: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
        return 0

    def start(self) -> None:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.reset = False

    def stop(self) -> str:
        hwm = self._mb("VmHWM")
        self.peak = max(self.peak, hwm)
        return f"   peak RSS {hwm} MB{'' if self.reset else ' (so far)'}, {self._mb('VmRSS')} MB after"

    def summary(self) -> str:
        import resource

        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        return (f"peak RSS of the full round: {self.peak} MB in this process; "
                f"largest finished child process {workers} MB (its RSS counts pages shared with this one)")  # fmt: skip


def _stored_url(work: Path) -> str:
    """The portal's origin as the kept workdir's items know it (scheme://host:port)."""
    import sqlite3

    with sqlite3.connect(work / "tvpusher.db") as conn:
        row = conn.execute("SELECT url FROM item ORDER BY id LIMIT 1").fetchone()
    parts = str(row[0]).split("/")
    return "/".join(parts[:3])


if __name__ == "__main__":
    main()
