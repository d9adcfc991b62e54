"""Push benchmark against Debian nginx (WebDAV) on loopback, with the real outbox and target.

1. Full initial push of a channel of N items (page-like 4-bit palette PNGs, ~20–40 KB each,
   1–3 pages per item), with ``verify = "sha256"`` (read-back, the default) and ``"size"``
   (HEAD), over 4 connections (the default) and 1, against the floor: ``curl -T`` of the same files and manifest, one curl process
   reusing its connection, in the same run.
2. Update of one item (new pages) in that channel: bytes uploaded, as nginx counts them
   (``$request_length``: request line, headers and body of every request of the delivery),
   against the bytes of the item's new pages plus the new manifest. Target ratio ≤ 1.05.

    python bench/push_bench.py [--items 500] [--seed 1]

Needs root (nginx runs with ``user root``) and nginx-full; prints one line per figure.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "targets"))

from targetkit import PASSWORD, USER, Channel, Nginx, make_runtime  # noqa: E402

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


def window(nginx: Nginx, since: int) -> tuple[int, int, int]:
    reqs = nginx.requests()[since:]
    return len(reqs), sum(r.up for r in reqs), sum(r.down for r in reqs)


def curl_baseline(nginx: Nginx, files: list[Path], work: Path) -> float:
    cfg = work / "curl.cfg"
    with cfg.open("w") as f:
        for p in files:
            sub = "assets/" if p.suffix == ".png" else ""
            f.write(f'upload-file = "{p}"\nurl = "{nginx.url}curl/{sub}{p.name}"\noutput = "/dev/null"\n')
    start = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-u", f"{USER}:{PASSWORD}", "--config", str(cfg)], check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="push-bench-"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (the ratios are from the same run)")
    nginx = Nginx(work / "nginx", work / "headend").start()
    try:
        t0 = time.perf_counter()
        pages = Pages(args.seed)
        content = {f"i{n}": [pages.page() for _ in range(pages.rng.choice((1, 2, 2, 3)))] for n in range(args.items)}
        sizes = [len(p) for ps in content.values() for p in ps]
        mean = sum(sizes) // len(sizes) // 1000
        print(f"generated {args.items} items, {len(sizes)} pages, {sum(sizes) / 1e6:.1f} MB "
              f"(page {min(sizes) // 1000}–{max(sizes) // 1000} KB, mean {mean} KB) in {time.perf_counter() - t0:.0f} s")  # fmt: skip

        results = {}
        for verify, conns in (("sha256", 4), ("size", 4), ("listing", 4), ("listing", 1)):
            variant = f"verify={verify}, connections={conns}"
            opts = {"url": f"{nginx.url}{verify}{conns}/", "username": USER, "password": PASSWORD, "verify": verify, "connections": conns}
            target = {"name": "dav", "kind": "webdav", "options": opts}
            rt = make_runtime(work / f"work-{verify}{conns}", [target])
            ch = Channel(rt)
            for iid, ps in content.items():
                ch.set(iid, *ps)
            cv = ch.publish()
            since = len(nginx.requests())
            start = time.perf_counter()
            [r] = deliver(rt)
            took = time.perf_counter() - start
            assert r.status == "done", r.error
            n, up, down = window(nginx, since)
            results[variant] = (took, r.bytes, rt, ch, cv)
            print(f"initial push, {variant}: {r.files} files, {r.bytes / 1e6:.1f} MB payload in {took:.2f} s = "
                  f"{r.bytes / 1e6 / took:.1f} MB/s; {n} requests, {up / 1e6:.2f} MB up, {down / 1e6:.2f} MB down")  # fmt: skip

        _took, _payload, rt, _ch, cv = results["verify=sha256, connections=4"]
        files = sorted((rt.assets.root).glob("*.png"))
        manifest = work / "channel.xml"
        manifest.write_text(cv.manifest, encoding="utf-8")
        base = curl_baseline(nginx, [*files, manifest], work)
        curl_bytes = sum(p.stat().st_size for p in files) + manifest.stat().st_size
        print(f"curl -T of the same {len(files) + 1} files: {curl_bytes / 1e6:.1f} MB in {base:.2f} s = {curl_bytes / 1e6 / base:.1f} MB/s")
        for variant, (t, b, *_rest) in results.items():
            print(f"  {variant}: throughput {b / t / (curl_bytes / base):.2f}× curl -T (time {t / base:.2f}× curl)")

        for variant, (_t, _b, rt, ch, _cv) in results.items():
            iid = f"i{args.items // 2}"
            new = [pages.page() for _ in content[iid]]
            ch.set(iid, *new)
            cv2 = ch.publish()
            since = len(nginx.requests())
            [r] = deliver(rt)
            assert r.status == "done", r.error
            n, up, down = window(nginx, since)
            floor = sum(len(p) for p in new) + len(cv2.manifest.encode())
            print(f"one-item update, {variant}: {len(new)} new pages {sum(len(p) for p in new)} B + manifest "
                  f"{len(cv2.manifest.encode())} B = {floor} B; uploaded {up} B in {n} requests: ratio {up / floor:.4f} "
                  f"(downloaded {down} B: listing and read-backs)")  # fmt: skip
            rt.close()
    finally:
        nginx.stop()


if __name__ == "__main__":
    main()
