"""Push benchmark: the real outbox and targets, a folder on this disk and Debian nginx (WebDAV)
on loopback, each against a baseline measured in the same run.

1. ``folder``: a first push of ``--pages`` pages to a folder on disk, once per ``sync`` mode —
   ``file`` (an fsync per file and per rename: the baseline, as before issue 19), ``batch`` and
   ``filesystem``: files/s, MB/s and CPU seconds of this process. Pages are random bytes of PNG
   size (uniform 6–21 KB, mean 13.5 KB: a year is 30,289 pages, 409 MB), so that no
   compression anywhere flatters a figure. ``--pages 30289`` is the year.
2. ``webdav``: a first push of the same pages to nginx per ``verify`` mode and number of
   connections, against ``curl -T`` of the same files to the same nginx: one curl process
   uploading them all over one kept-alive connection (``--config`` of upload-file/url pairs: the
   plain ``curl -T`` floor), and ``curl -Z`` with 4 transfers at once. nginx runs
   ``deploy/nginx-webdav.conf`` as shipped (``--server deploy``, ``tests/targets/targetkit.py``'s
   DeployNginx: its rate limits apply to curl and the pusher alike) or the tests' configuration
   (``--server test``), with ``--workers`` worker processes (``auto``, as Debian's nginx.conf
   has it, by default; the tests run one). Each of ``--rounds`` rounds runs both curls, then every variant; a
   variant's ratio (payload bytes / wall time against curl's) is taken against the curl of its
   own round, since the load of a shared machine drifts within seconds, and the median of the
   rounds is the figure. Each line also gives the CPU time of this process and the HTTP requests
   per delivered file, as nginx logged them.
3. ``update``: one item of a channel of ``--items`` rendered-looking items (4-bit palette PNGs,
   ~20–40 KB) gets new pages: bytes uploaded as nginx counts them (``$request_length``) against
   the item's new pages plus the new manifest.

    python bench/push_bench.py [--sections folder,webdav,update] [--pages 4000] [--items 500] [--seed 1]
                               [--dav sha256:4,listing:4] [--rounds 3] [--server deploy|test] [--workers auto]

Needs root (nginx runs with ``user root``) and nginx-full; prints one line per figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "targets"))

from targetkit import PASSWORD, USER, Channel, DeployNginx, Nginx, make_runtime  # noqa: E402

from pusher.names import parse_asset_name  # noqa: E402
from pusher.runtime import Runtime  # noqa: E402
from pusher.stages.outbox import deliver  # noqa: E402

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


class Pages:
    """HD pages of CJK-like text: glyphs rendered once, pasted in lines, 16 grey levels."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        font = ImageFont.truetype(FONT, 36)
        self.glyphs = []
        for c in range(0x4E00, 0x4E00 + 400):
            g = Image.new("L", (38, 44), 0)
            ImageDraw.Draw(g).text((1, 0), chr(c), font=font, fill=255)
            self.glyphs.append(g)
        self.palette = [v for i in range(16) for v in (int(30 + i * 190 / 15),) * 3]

    def page(self) -> bytes:
        im = Image.new("L", (1280, 720), 0)
        for line in range(self.rng.randint(4, 9)):
            for k in range(self.rng.randint(12, 31)):
                im.paste(self.glyphs[self.rng.randrange(len(self.glyphs))], (96 + k * 37, 110 + line * 52))
        p = Image.frombytes("P", im.size, im.point(lambda v: v >> 4).tobytes())
        p.putpalette(self.palette)
        buf = io.BytesIO()
        p.save(buf, "PNG", bits=4)
        return buf.getvalue()


def with_workers(nginx: Nginx, workers: str) -> Nginx:
    """The tests' nginx runs one worker; Debian's nginx.conf, which the shipped site is included
    in, says ``worker_processes auto`` (one per CPU)."""
    conf = nginx.conf.read_text()
    assert "worker_processes 1;" in conf
    nginx.conf.write_text(conf.replace("worker_processes 1;", f"worker_processes {workers};"))
    return nginx


def nginx_cpu(nginx: Nginx) -> float:
    """CPU seconds of nginx's master and workers so far (the server's share of a push)."""
    assert nginx.proc is not None
    total = 0
    for pid in [nginx.proc.pid, *(int(p) for p in Path(f"/proc/{nginx.proc.pid}/task/{nginx.proc.pid}/children").read_text().split())]:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def window(nginx: Nginx, since: int) -> tuple[int, int, int]:
    reqs = nginx.requests()[since:]
    return len(reqs), sum(r.up for r in reqs), sum(r.down for r in reqs)


def blob_channel(rt: Runtime, pages: int, seed: int) -> tuple[Channel, list[Path]]:
    """Items of two pages of random bytes (PNG-sized: 6–21 KB); the published channel and the
    files of its assets in the local store."""
    rng = random.Random(seed)
    ch = Channel(rt)
    for n in range(0, pages, 2):
        ch.set(f"i{n}", *(b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randint(6000, 21000)) for _ in range(min(2, pages - n))))
    cv = ch.publish()
    return ch, [rt.assets.path(*parse_asset_name(a)) for a, _n in json.loads(cv.assets)]


def folder_section(work: Path, pages: int, seed: int, modes: list[str]) -> None:
    names = [f"{m}-{i}" for i, m in enumerate(modes)]  # a mode may be measured twice
    targets = [
        {"name": n, "kind": "folder", "options": {"path": str(work / f"drop-{n}"), "sync": m}} for n, m in zip(names, modes, strict=True)
    ]
    rt = make_runtime(work / "work-folder", targets)
    try:
        t0 = time.perf_counter()
        blob_channel(rt, pages, seed)
        print(f"folder: {pages} pages published in {time.perf_counter() - t0:.1f} s")
        base = 0.0
        for n, m in zip(names, modes, strict=True):
            os.sync()  # what the publish left dirty is not this mode's to write
            start, cpu = time.perf_counter(), time.process_time()
            [r] = deliver(rt, n)
            took, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert r.status == "done", r.error
            base = base or r.bytes / took
            print(f"  sync={m}: {r.files} files, {r.bytes / 1e6:.1f} MB in {took:.2f} s = {r.files / took:.0f} files/s, "
                  f"{r.bytes / 1e6 / took:.1f} MB/s ({r.bytes / took / base:.2f}× sync={modes[0]}); CPU {cpu:.2f} s")  # fmt: skip
    finally:
        rt.close()


def curl_parallel(nginx: Nginx, files: list[Path], prefix: str, work: Path, k: int) -> float:
    cfg = work / f"curl-{prefix}.cfg"
    with cfg.open("w") as f:
        for p in files:
            sub = "assets/" if p.suffix == ".png" else ""
            f.write(f'upload-file = "{p}"\nurl = "{nginx.url}{prefix}/{sub}{p.name}"\noutput = "/dev/null"\n')
    start = time.perf_counter()
    par = ["-Z", "--parallel-max", str(k), "--no-progress-meter"] if k > 1 else []
    subprocess.run(["curl", "-sS", "--fail", *par, "-u", f"{USER}:{PASSWORD}", "--config", str(cfg)], check=True)
    return time.perf_counter() - start


class Variant(NamedTuple):
    verify: str
    connections: int
    kind: str = "webdav"  # another registered kind of the same options (an A/B of two implementations)

    @property
    def label(self) -> str:
        return f"{'' if self.kind == 'webdav' else self.kind + ' '}verify={self.verify}, connections={self.connections}"


def webdav_section(work: Path, nginx: Nginx, pages: int, seed: int, variants: list[Variant], rounds: int) -> None:
    """Each round: curl -T, curl -Z 4, then every variant, each into a folder of its own on the
    same nginx; a variant's ratio is taken against the curl of its own round (the load of a
    shared machine drifts within seconds) and the median of the rounds is the figure."""
    names = {(v, r): f"{v.kind}-{v.verify}{v.connections}-r{r}" for r in range(rounds) for v in variants}
    targets = [
        {"name": n, "kind": v.kind,
         "options": {"url": f"{nginx.url}{n}/", "username": USER, "password": PASSWORD, "verify": v.verify, "connections": v.connections}}
        for (v, _r), n in names.items()
    ]  # fmt: skip
    rt = make_runtime(work / "work-dav", targets)
    ratios: dict[Variant, list[tuple[float, float]]] = {v: [] for v in variants}
    try:
        _ch, files = blob_channel(rt, pages, seed)
        payload = sum(p.stat().st_size for p in files)
        print(f"webdav: {len(files)} pages, {payload / 1e6:.1f} MB, {rounds} rounds on {nginx.url}")
        for r in range(rounds):
            floors = {}
            for k in (1, 4):
                before, ng = os.times(), nginx_cpu(nginx)
                took = curl_parallel(nginx, files, f"curl{k}-r{r}", work, k)
                after, ng = os.times(), nginx_cpu(nginx) - ng
                cpu = after.children_user + after.children_system - before.children_user - before.children_system
                floors[k] = payload / took
                how = "one process, one kept-alive connection" if k == 1 else f"curl -Z, {k} at once"
                print(f"  round {r + 1}: curl -T ({how}): {took:.2f} s = {len(files) / took:.0f} files/s, {payload / 1e6 / took:.1f} MB/s; "
                      f"CPU a file: curl {cpu / len(files) * 1e3:.2f} ms, nginx {ng / len(files) * 1e3:.2f} ms")  # fmt: skip
            for v in variants:
                since = len(nginx.requests())
                start, cpu, ng = time.perf_counter(), time.process_time(), nginx_cpu(nginx)
                [rep] = deliver(rt, names[v, r])
                took, cpu, ng = time.perf_counter() - start, time.process_time() - cpu, nginx_cpu(nginx) - ng
                assert rep.status == "done", rep.error
                n, _up, down = window(nginx, since)
                ratio, ratio4 = rep.bytes / took / floors[1], rep.bytes / took / floors[4]
                ratios[v].append((ratio, ratio4))
                print(f"  round {r + 1}: {v.label}: {rep.files} files, {rep.bytes / 1e6:.1f} MB in {took:.2f} s = "
                      f"{rep.files / took:.0f} files/s, {rep.bytes / 1e6 / took:.1f} MB/s = {ratio:.2f}× curl -T "
                      f"({ratio4:.2f}× curl -Z 4); CPU a file: pusher {cpu / rep.files * 1e3:.2f} ms, nginx {ng / rep.files * 1e3:.2f} ms; "
                      f"{n} requests ({n / rep.files:.2f} a file), {down / 1e6:.1f} MB down")  # fmt: skip
        for v, rs in ratios.items():
            one, four = (statistics.median(x) for x in zip(*rs, strict=True))
            each = ", ".join(f"{a:.2f}" for a, _ in rs)
            print(f"  median of {rounds}: {v.label}: {one:.2f}× curl -T, {four:.2f}× curl -Z 4 (rounds: {each})")
    finally:
        rt.close()


def update_section(work: Path, nginx: Nginx, items: int, seed: int) -> None:
    t0 = time.perf_counter()
    pages = Pages(seed)
    content = {f"i{n}": [pages.page() for _ in range(pages.rng.choice((1, 2, 2, 3)))] for n in range(items)}
    sizes = [len(p) for ps in content.values() for p in ps]
    print(f"update: {items} items, {len(sizes)} rendered-looking pages, {sum(sizes) / 1e6:.1f} MB "
          f"(page {min(sizes) // 1000}–{max(sizes) // 1000} KB) in {time.perf_counter() - t0:.0f} s")  # fmt: skip
    for verify in ("sha256", "listing"):
        opts = {"url": f"{nginx.url}u-{verify}/", "username": USER, "password": PASSWORD, "verify": verify}
        rt = make_runtime(work / f"work-u-{verify}", [{"name": "dav", "kind": "webdav", "options": opts}])
        try:
            ch = Channel(rt)
            for iid, ps in content.items():
                ch.set(iid, *ps)
            ch.publish()
            [r] = deliver(rt)
            assert r.status == "done", r.error
            iid = f"i{items // 2}"
            new = [pages.page() for _ in content[iid]]
            ch.set(iid, *new)
            cv2 = ch.publish()
            since = len(nginx.requests())
            [r] = deliver(rt)
            assert r.status == "done", r.error
            n, up, down = window(nginx, since)
            floor = sum(len(p) for p in new) + len(cv2.manifest.encode())
            print(f"  one-item update, verify={verify}: {len(new)} new pages {sum(len(p) for p in new)} B + manifest "
                  f"{len(cv2.manifest.encode())} B = {floor} B; uploaded {up} B in {n} requests: ratio {up / floor:.4f} "
                  f"(downloaded {down} B: listing and read-backs)")  # fmt: skip
        finally:
            rt.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default="folder,webdav,update")
    ap.add_argument("--pages", type=int, default=4000, help="pages of the folder and WebDAV pushes (30289: a year)")
    ap.add_argument("--items", type=int, default=500, help="items of the one-item update's channel")
    ap.add_argument("--dav", default="sha256:4,size:4,listing:1,listing:2,listing:4,listing:8", help="verify:connections pairs")
    ap.add_argument("--folder-sync", default="file,batch,filesystem", help="sync modes, the first is the baseline")
    ap.add_argument("--rounds", type=int, default=3, help="WebDAV rounds: curl, then every variant")
    ap.add_argument("--server", choices=("deploy", "test"), default="deploy", help="nginx: deploy/nginx-webdav.conf or the tests'")
    ap.add_argument("--workers", default="auto", help="nginx worker_processes: auto as in Debian's nginx.conf, 1 as in the tests")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    work = Path(tempfile.mkdtemp(prefix="push-bench-", dir=os.environ.get("BENCH_DIR") or None))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (the ratios are from the same run); in {work}")
    if "folder" in sections:
        folder_section(work, args.pages, args.seed, args.folder_sync.split(","))
    if not sections & {"webdav", "update"}:
        return
    nginx = DeployNginx(work / "nginx", work / "srv") if args.server == "deploy" else Nginx(work / "nginx", work / "headend")
    with_workers(nginx, args.workers).start()
    try:
        if "webdav" in sections:
            variants = [Variant(v, int(c)) for v, c in (x.split(":") for x in args.dav.split(","))]
            webdav_section(work, nginx, args.pages, args.seed, variants, args.rounds)
        if "update" in sections:
            update_section(work, nginx, args.items, args.seed)
    finally:
        nginx.stop()


if __name__ == "__main__":
    main()
