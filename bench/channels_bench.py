"""Several channels on several nodes: K channels of N items each (the generated portal of
``pipeline_bench.make_portal``, one loopback server per channel), served by daemon processes
(``pusher run``) on PostgreSQL, a schema per channel, separate workdirs (nothing shared but the
database). Prints the time until every channel is on air (each headend's manifest lists all its
items), each channel's time, and the split of the work between the nodes: channels led, items
drawn, versions delivered, CPU seconds.

    python bench/channels_bench.py [--channels 20] [--items 500] [--nodes 2] [--baseline]
                                   [--database postgresql://postgres@127.0.0.1:5432/test]

``--baseline`` runs the same deployment on one node first, in the same run, for the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline_bench import make_portal

from feeds.channel import expand_manifest
from feeds.xmlsafe import parse_xml
from pusher.demo import COLUMNS, HTML_LIST, _toml_value
from pusher.web.httpserve import StaticServer

NS = "{urn:tvpusher:channel:1}"


def write_deployment(path: Path, names: list[str], urls: list[str], headends: dict[str, Path], *, work: Path, database: str,
                     node: str, items: int) -> Path:  # fmt: skip
    """One file of K channels: shared defaults on top, each channel its source and headend."""
    top: dict[str, dict[str, Any]] = {
        "channel": {"profile": "hd", "workdir": str(work), "database": database, "publish_interval": 5},
        "http": {"delay": 0.0, "per_host": 4},
        "gate": {"allow": ["87101077", "0579-87101077", "gkb1416@126.com"]},
        "daemon": {"node": node, "health_listen": "", "heartbeat": 1.0, "worker_interval": 1.0, "election_interval": 1.0,
                   "lease_seconds": 60},
    }  # fmt: skip
    lines: list[str] = []
    for section, values in top.items():
        lines += [f"[{section}]", *(f"{k} = {_toml_value(v)}" for k, v in values.items())]
    for c in COLUMNS:
        lines += ["[[columns]]", *(f"{k} = {_toml_value(v)}" for k, v in c.items())]
    for name, url in zip(names, urls, strict=True):
        lines += [f"[channels.{name}.channel]", f"name = {_toml_value(f'{name} 数字电视政务频道')}",
                  f"[[channels.{name}.sources]]", 'name = "notices"', 'kind = "html"',
                  f"url = {_toml_value(url + '/col/col1001/index.html')}",
                  'column = "tzgg"', "interval = 600", f"options = {_toml_value({**HTML_LIST, 'max_items': items + 50})}",
                  f"[[channels.{name}.targets]]", 'name = "headend"', 'kind = "folder"',
                  f"options = {_toml_value({'path': str(headends[name])})}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def on_air(headend: Path) -> int:
    """Items in the headend's manifest, read through its parts as a box does (0 while none)."""

    def read(href: str) -> bytes | None:
        with contextlib.suppress(FileNotFoundError):
            return (headend / href).read_bytes()
        return None

    try:
        data = expand_manifest((headend / "channel.xml").read_bytes(), read)
    except FileNotFoundError:
        return 0
    return sum(1 for _ in parse_xml(data).iter(f"{NS}item"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def events(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
    return out


def drop_schemas(database: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        for n in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{n}" CASCADE')


def run(k: int, n: int, nodes: int, database: str, tmp: Path, urls: list[str], expect: int, timeout: float) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    names = [f"b{tag}_{i:02d}" for i in range(k)]  # each channel's schema is named after it
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else tmp
    headends = {c: Path(tempfile.mkdtemp(prefix=f"tvp-{c}-", dir=shm)) for c in names}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, Path] = {}
    result: dict[str, Any] = {"channels": k, "items": n, "nodes": nodes}
    try:
        t0 = time.monotonic()
        for i in range(nodes):
            node = "AB"[i] if nodes <= 2 else f"N{i}"
            cfg = write_deployment(tmp / f"{tag}-{node}.toml", names, urls, headends, work=tmp / f"work-{tag}-{node}", database=database,
                                   node=node, items=n)  # fmt: skip
            logs[node] = tmp / f"{tag}-{node}.log"
            with logs[node].open("wb") as fh:
                procs[node] = subprocess.Popen([sys.executable, "-m", "pusher", "run", "--config", str(cfg), "--log-json"], stdout=fh,
                                               stderr=subprocess.STDOUT)  # fmt: skip
        done: dict[str, float] = {}
        said = t0
        while len(done) < k and time.monotonic() - t0 < timeout:
            counts = {c: on_air(headends[c]) for c in names if c not in done}
            for c, count in counts.items():
                if count >= expect:
                    done[c] = time.monotonic() - t0
            if time.monotonic() - said >= 30:  # progress, so that a run cut short still says something
                said = time.monotonic()
                items = sum(counts.values()) + expect * (k - len(counts))
                print(f"  {said - t0:6.0f} s: {len(done)}/{k} channels all on air, {items}/{k * expect} items on air", flush=True)
            if any(p.poll() is not None for p in procs.values()):
                gone = [logs[x].read_text()[-2000:] for x, p in procs.items() if p.poll() is not None]
                raise SystemExit("a node exited: " + "; ".join(gone))
            time.sleep(0.5)
        result["all_on_air_s"] = max(done.values()) if len(done) == k else None
        result["per_channel_s"] = sorted(done.values())
        result["missing"] = [c for c in names if c not in done]
        result["cpu_s"] = {x: cpu_seconds(p.pid) for x, p in procs.items()}
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
        split: dict[str, dict[str, Any]] = {}
        for x, log in logs.items():
            ev = events(log)
            led: set[str] = set()
            took = 0
            for e in ev:
                if e.get("event") == "leader":
                    led.add(str(e.get("channel")))
                    took += 1
                elif e.get("event") == "follower":
                    led.discard(str(e.get("channel")))
            drawn = Counter(str(e.get("channel")) for e in ev if e.get("event") == "transition" and e.get("state") == "rendered")
            versions = sum(1 for e in ev if str(e.get("msg", "")).startswith("delivered version"))
            polls = sum(1 for e in ev if e.get("event") == "poll")
            split[x] = {"led_at_end": len(led), "leaderships_taken": took, "items_drawn": sum(drawn.values()),
                        "channels_drawn_in": len(drawn), "versions_delivered": versions, "polls": polls}  # fmt: skip
        result["split"] = split
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        for h in headends.values():
            shutil.rmtree(h, ignore_errors=True)
        drop_schemas(database, names)
    return result


def report(r: dict[str, Any]) -> None:
    per = r["per_channel_s"]
    print(f"\n{r['channels']} channels x {r['items']} items on {r['nodes']} node(s):")
    if r["all_on_air_s"] is None:
        print(f"  NOT all on air before the timeout; missing {len(r['missing'])}: {', '.join(r['missing'][:5])}")
    else:
        total = r["channels"] * r["items"]
        print(f"  all channels on air after {r['all_on_air_s']:.1f} s ({total / r['all_on_air_s']:.1f} items/s)")
    if per:
        print(f"  per channel: first {per[0]:.1f} s, median {statistics.median(per):.1f} s, last {per[-1]:.1f} s")
    cpu = r["cpu_s"]
    print(f"  CPU: {sum(cpu.values()):.1f} s in all (" + ", ".join(f"{x} {v:.1f} s" for x, v in cpu.items()) + ")")
    for x, s in r["split"].items():
        print(f"  node {x}: leads {s['led_at_end']} channels at the end ({s['leaderships_taken']} leaderships taken), drew "
              f"{s['items_drawn']} items in {s['channels_drawn_in']} channels, delivered {s['versions_delivered']} versions, "
              f"{s['polls']} polls")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--baseline", action="store_true", help="run the same on one node first")
    ap.add_argument("--database", default=os.environ.get("PUSHER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tvp-channels-"))
    try:
        make_portal(tmp / "portal", args.items)
        with contextlib.ExitStack() as stack:
            # One server per channel: each county's portal is a host of its own.
            urls = [stack.enter_context(StaticServer(tmp / "portal")).url for _ in range(args.channels)]
            expect = args.items  # the generated notices (the sample column's own few come on top)
            results = []
            if args.baseline:
                results.append(run(args.channels, args.items, 1, args.database, tmp, urls, expect, args.timeout))
                report(results[-1])
            results.append(run(args.channels, args.items, args.nodes, args.database, tmp, urls, expect, args.timeout))
            report(results[-1])
        if args.baseline and results[0]["all_on_air_s"] and results[1]["all_on_air_s"]:
            b, m = results[0], results[1]
            print(f"\n{args.nodes} nodes vs 1: {b['all_on_air_s'] / m['all_on_air_s']:.2f}x faster to all on air; "
                  f"CPU {sum(m['cpu_s'].values()) / sum(b['cpu_s'].values()):.2f}x")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
