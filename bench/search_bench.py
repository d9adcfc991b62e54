"""Search latency over a store of generated Chinese items (p50/p95), against a plain LIKE scan.

    python bench/search_bench.py [--items 20000] [--queries 200] [--postgres postgresql://…]

Items get a title and ~400 characters of text (Faker zh_CN, seeded). Queries are substrings cut
from the items themselves, so that each finds something: 2 characters (a substring scan, since
trigrams need three), 3, 4 and 6 characters (FTS5 trigram on SQLite), and two words together.
The baseline, in the same run and on the same rows, is ``WHERE title LIKE … OR text LIKE …``
without any index; the ratio is baseline / search. Timings are per query, end to end through
:func:`pusher.store.search.search` (ranking and snippets included).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from faker import Faker
from sqlalchemy import text

from pusher.store.db import Store
from pusher.store.search import search


def corpus(n: int, seed: int = 1) -> list[tuple[str, str]]:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    heads = ["关于", "永康市", "市政府办公室关于", "芝英镇", "市财政局"]
    tails = ["的通知", "的公告", "实施方案", "工作要点", "的报告", "公示"]
    rng = random.Random(seed)
    return [
        (rng.choice(heads) + fake.sentence(nb_words=6).rstrip("。.") + rng.choice(tails), fake.text(max_nb_chars=400)) for _ in range(n)
    ]


def fill(store: Store, rows: list[tuple[str, str]]) -> float:
    start = time.perf_counter()
    base = datetime(2020, 1, 1, tzinfo=UTC)
    with store.write() as db:
        db.connection().execute(
            text(
                'INSERT INTO item (source, url, dedupe_key, title, "column", portal_column, index_no, publisher, doc_no, topic, validity, '
                "published, text, body, attachments, content_hash, version, state, state_reason, screened_body, screened_title, findings, "
                "rendered_version, pinned, missing_polls, validators, first_seen, updated_at, claimed_by) VALUES "
                "('bench', :url, '', :title, :col, '', '', '', '', '', '', :pub, :text, '[]', '[]', '', 1, 'PUBLISHED', '', '', '', '[]', "
                "1, false, 0, '{}', :pub, :pub, '')"
            ),
            [
                {
                    "url": f"http://bench/{n}",
                    "title": t,
                    "col": ("zwgk", "tzgg", "cwgk")[n % 3],
                    "pub": base + timedelta(hours=n),
                    "text": b,
                }
                for n, (t, b) in enumerate(rows)
            ],
        )
    return time.perf_counter() - start


def queries(rows: list[tuple[str, str]], per_kind: int, seed: int = 2) -> dict[str, list[str]]:
    rng = random.Random(seed)

    def cut(k: int) -> str:
        """A substring of one run of Chinese characters of an item (so that it occurs)."""
        while True:
            title, body = rows[rng.randrange(len(rows))]
            runs = [r for r in re.findall(r"[\u4e00-\u9fff]+", body if rng.random() < 0.7 else title) if len(r) >= k]
            if runs:
                run = rng.choice(runs)
                at = rng.randrange(len(run) - k + 1)
                return run[at : at + k]

    out = {f"{k} chars": [cut(k) for _ in range(per_kind)] for k in (2, 3, 4, 6)}
    out["two words"] = [f"{cut(3)} {cut(2)}" for _ in range(per_kind)]
    return out


def baseline(store: Store) -> Callable[[str], int]:
    like = "ILIKE" if store.engine.dialect.name == "postgresql" else "LIKE"

    def run(q: str) -> int:
        words = q.split()
        where = " AND ".join(f"(title {like} :w{n} OR text {like} :w{n})" for n in range(len(words)))
        with store.engine.connect() as conn:
            return len(
                conn.execute(
                    text(f"SELECT id, title FROM item WHERE {where} LIMIT 20"), {f"w{n}": f"%{w}%" for n, w in enumerate(words)}
                ).all()
            )

    return run


def timed(fn: Callable[[str], object], qs: list[str]) -> tuple[list[float], int]:
    ms, found = [], 0
    for q in qs:
        t = time.perf_counter()
        r = fn(q)
        ms.append((time.perf_counter() - t) * 1000)
        found += bool(r)
    return ms, found


def pct(xs: list[float], p: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1] if len(xs) > 1 else xs[0]


def bench(store: Store, n: int, per_kind: int) -> None:
    rows = corpus(n)
    took = fill(store, rows)
    print(f"{store.engine.dialect.name}: {n} items inserted and indexed in {took:.1f} s")
    with store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    qs = queries(rows, per_kind)
    base = baseline(store)
    search(store, qs["3 chars"][0])  # warm-up: the first query opens the connection pool
    print(f"{'query':<10} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'found':>6} | {'LIKE p50':>9} {'LIKE p95':>9} | {'ratio':>6}")
    for kind, q in qs.items():
        ms, found = timed(lambda s: search(store, s), q)
        bms, _ = timed(base, q)
        print(f"{kind:<10} {len(q):>4} {pct(ms, 50):>8.2f} {pct(ms, 95):>8.2f} {max(ms):>8.2f} {found:>6} | "
              f"{pct(bms, 50):>9.2f} {pct(bms, 95):>9.2f} | {pct(bms, 50) / pct(ms, 50):>5.1f}x")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=200, help="per kind of query")
    ap.add_argument("--postgres", help="also run on this PostgreSQL database (a scratch schema is created and dropped)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.migrate()
        bench(store, args.items, args.queries)
        store.dispose()
    if args.postgres:
        import psycopg

        schema = f"bench_{int(time.time())}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in args.postgres else "?"
            store = Store(f"{args.postgres}{sep}options=-csearch_path%3D{schema}%2Cpublic")
            store.migrate()
            bench(store, args.items, args.queries)
            store.dispose()
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
