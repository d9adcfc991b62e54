"""Shared assets benchmark (issue 19, nodes without a shared disk): what keeping pages in
PostgreSQL's ``blob`` table costs against the local folder alone, in the same run.

1. ``put`` of N page-sized blobs (incompressible, ~25 KB, as palette PNGs are): the folder
   (``FolderAssets``, SQLite single node) against the folder plus the database (``CachedAssets``).
2. ``read`` of the same pages on a node whose cache is empty (every page from the database),
   against reads from a warm folder.
3. A playout loop of M MiB: ``put_file`` into the database and a read into an empty cache,
   MB/s and the growth of peak RSS (the loop is streamed in 1 MiB chunks, never whole).

    python bench/shared_assets_bench.py [--pages 2000] [--loop-mib 256]

Needs the PostgreSQL server at 127.0.0.1:5432 (trust, database ``test``; $PUSHER_TEST_PG);
works in a schema of its own, dropped at the end. Wall and CPU seconds are printed: the machine
is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pusher.store.assets import CachedAssets, FolderAssets  # noqa: E402
from pusher.store.blobs import DatabaseBlobs  # noqa: E402
from pusher.store.db import Store  # noqa: E402

PG = os.environ.get("PUSHER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def timed(fn):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--loop-mib", type=int, default=256)
    args = ap.parse_args()
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    tmp = Path(tempfile.mkdtemp(prefix="tvp-shared-bench-"))
    store = Store(f"{PG}?options=-csearch_path%3D{schema}%2Cpublic")
    try:
        store.migrate()
        pages = [os.urandom(25_000) for _ in range(args.pages)]
        mb = sum(map(len, pages)) / 1e6
        folder = FolderAssets(tmp / "folder")
        shared = CachedAssets(tmp / "nodeA", DatabaseBlobs(store))
        shas: list[str] = []
        f_w, f_c = timed(lambda: [folder.put(p) for p in pages])
        s_w, s_c = timed(lambda: shas.extend(shared.put(p) for p in pages))
        print(f"put {args.pages} pages ({mb:.1f} MB): folder {f_w:.2f} s wall / {f_c:.2f} s CPU "
              f"({f_w / args.pages * 1000:.2f} ms/page); folder+PostgreSQL {s_w:.2f} s / {s_c:.2f} s CPU "
              f"({s_w / args.pages * 1000:.2f} ms/page); ratio {s_w / f_w:.1f}x")  # fmt: skip
        batched = CachedAssets(tmp / "nodeA2", DatabaseBlobs(store))
        other = [os.urandom(25_000) for _ in range(args.pages)]
        b_w, b_c = timed(lambda: [batched.put_many(other[i : i + 8]) for i in range(0, len(other), 8)])
        print(f"put_many in batches of 8 pages: folder+PostgreSQL {b_w:.2f} s / {b_c:.2f} s CPU "
              f"({b_w / args.pages * 1000:.2f} ms/page); ratio to the folder {b_w / f_w:.1f}x")  # fmt: skip
        warm_w, _ = timed(lambda: [folder.read(s) for s in shas])
        cold = CachedAssets(tmp / "nodeB", DatabaseBlobs(store))
        cold_w, cold_c = timed(lambda: [cold.read(s) for s in shas])
        print(f"read {args.pages} pages: warm folder {warm_w:.2f} s; empty cache, all from PostgreSQL {cold_w:.2f} s "
              f"/ {cold_c:.2f} s CPU ({mb / cold_w:.1f} MB/s, {cold_w / args.pages * 1000:.2f} ms/page); "
              f"ratio {cold_w / warm_w:.1f}x")  # fmt: skip
        again_w, _ = timed(lambda: [cold.read(s) for s in shas])
        print(f"read again on that node (now cached): {again_w:.2f} s")

        loop = tmp / "loop.ts"
        with loop.open("wb") as f:
            for _ in range(args.loop_mib):
                f.write(os.urandom(1 << 20))
        size = loop.stat().st_size
        before = peak_mib()
        holder: list[tuple[str, int]] = []
        p_w, p_c = timed(lambda: holder.append(shared.put_file(loop, "ts")))
        sha = holder[0][0]
        reader = CachedAssets(tmp / "nodeC", DatabaseBlobs(store))
        r_w, r_c = timed(lambda: reader.file(sha, "ts"))
        after = peak_mib()
        assert reader.path(sha, "ts").stat().st_size == size
        print(f"loop.ts {size / 2**20:.0f} MiB: put_file {p_w:.2f} s ({size / 1e6 / p_w:.0f} MB/s, {p_c:.2f} s CPU); "
              f"read into an empty cache {r_w:.2f} s ({size / 1e6 / r_w:.0f} MB/s, {r_c:.2f} s CPU); "
              f"peak RSS {before:.0f} -> {after:.0f} MiB")  # fmt: skip
    finally:
        store.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
