"""Benchmark the gate: findings per second on 10 MB of government text, against rendering.

Every detector runs, the content checks (pinyin near misses) and the names beside personal
data (jieba) included; attachments are not fetched here (``gate_eval.py --attachments`` reads
them). The text is the labelled corpus of ``gate_eval.py`` (real text with personal data and
look-alikes inserted), cut into documents of 3–8 paragraphs and screened one document at a time
through ``Gate.screen`` — detectors, allowlist, keyword lists (``config/keywords``) and masking —
as the screen stage does. The baseline, in the same run, is the renderer (``renderers.make_renderer``)
drawing a sample of the same documents: the gate must cost less per item than rendering it.

    python bench/gate_bench.py [--mb 10] [--profile hd] [--render-docs 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gate_eval import ALLOW, build_corpus, real_paragraphs  # noqa: E402

from pusher.gate import GateSettings, build_gate  # noqa: E402
from pusher.interfaces import Block, Document, PageContext  # noqa: E402


def documents(mb: float, seed: int) -> list[Document]:
    carriers = real_paragraphs()
    docs: list[Document] = []
    size, batch = 0, 0
    while size < mb * 1_000_000:
        batch += 1
        corpus, _ = build_corpus(1000, seed + batch, carriers)
        for d in corpus:
            paras = [p for p in d.text.split("\n") if p]
            docs.append(
                Document(
                    url=f"http://portal.invalid/art/{len(docs)}.html", title=paras[0][:40], blocks=tuple(Block("p", text=p) for p in paras)
                )
            )
            size += len(d.text.encode("utf-8"))
            if size >= mb * 1_000_000:
                break
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--profile", default="hd")
    ap.add_argument("--render-docs", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    docs = documents(args.mb, args.seed)
    nbytes = sum(len((d.title + "\n" + d.text).encode("utf-8")) for d in docs)
    nchars = sum(len(d.title) + 1 + len(d.text) for d in docs)
    gate = build_gate(GateSettings(allow=ALLOW, keyword_files=(ROOT / "config" / "keywords",)))
    print(f"text: {len(docs)} documents, {nbytes / 1e6:.1f} MB UTF-8, {nchars:,} characters")

    runs, findings = [], 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        findings = sum(len(gate.screen(d).findings) for d in docs)
        runs.append(time.perf_counter() - t0)
    best = min(runs)
    print(f"gate: {best:.2f} s best of {args.repeat} (median {statistics.median(runs):.2f} s), {findings:,} findings")
    rate = f"{findings / best:,.0f} findings/s, {nbytes / 1e6 / best:.1f} MB/s"
    print(f"      {rate}, {len(docs) / best:,.0f} documents/s, {best / len(docs) * 1e6:.0f} µs/document")

    try:
        from renderers import make_renderer

        renderer = make_renderer(args.profile)
    except Exception as exc:  # the baseline is optional: report why it is missing
        print(f"render baseline unavailable: {type(exc).__name__}: {exc}")
        return
    sample = docs[:: max(1, len(docs) // args.render_docs)][: args.render_docs]
    ctx = PageContext(channel="永康市数字电视政务频道", column="通知公告", today=date(2026, 11, 27))
    renderer.render_item(sample[0], ctx)  # warm font caches
    t0 = time.perf_counter()
    pages = sum(len(renderer.render_item(d, ctx)) for d in sample)
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d in sample:
        gate.screen(d)
    gate_s = time.perf_counter() - t0
    sample_mb = sum(len((d.title + "\n" + d.text).encode("utf-8")) for d in sample) / 1e6
    per = f"{render_s / pages * 1000:.1f} ms/page, {render_s / len(sample) * 1000:.1f} ms/document, {sample_mb / render_s:.3f} MB/s of text"
    print(f"render ({args.profile}): {len(sample)} of the same documents, {pages} pages, {per}")
    print(
        f"gate on those documents: {gate_s / len(sample) * 1000:.3f} ms/document, {gate_s / pages * 1000:.3f} ms per rendered page, "
        f"{sample_mb / gate_s:.3f} MB/s of text"
    )
    print(f"ratio: rendering costs {render_s / gate_s:,.0f}× the gate for the same items")


if __name__ == "__main__":
    main()
