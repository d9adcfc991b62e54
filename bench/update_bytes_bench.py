"""Bytes a one-item update sends to a headend, and what a box polling an unchanged channel pays.

Builds a channel of N items with the real pipeline (a generated portal on loopback in one
column — the hardest case for per-column manifests: every item in one column — polled,
screened, rendered, published and delivered to a folder headend), then edits the body of one
item on the portal, re-reads it (``poll --recheck``) and runs a round again. Prints the bytes the
update wrote to the headend split into page images, manifest parts and ``channel.xml``,
against the bytes of the edited item's new pages (issue 19 target: ≤ 1.3×), and what the same
update would have cost with format 1 (the whole channel in ``channel.xml``), from the same run.
A second case alongside: one more item of the same column carries a long text (the demo's
annual report, several pages), and its last paragraph is edited (only its last page changes,
the hardest case for the ratio: the item's part lists every page).
Then serves the headend with the preview server (as nginx would: ETag, Last-Modified) and
prints the bytes on the wire of a plain and of a conditional GET of ``channel.xml``.

    python bench/update_bytes_bench.py [--items 500] [--edit 250]
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from feeds.channel import ItemSpec, expand_manifest, folder_reader, manifest_tree, read_spec
from pusher.config.settings import parse_settings
from pusher.demo import PORTAL, demo_config
from pusher.demo.make_portal import REPORT
from pusher.names import item_ref
from pusher.runtime import Runtime
from pusher.stages import deliver, poll_source, publish, render_items, screen_items
from pusher.stages.outbox import DeliveryReport
from pusher.store.models import Item
from pusher.web.httpserve import StaticServer
from pusher.web.preview import serve_preview

TEMPLATE = "art/2026/11/20/art_1001_5101.html"
#: The long item's last paragraph, and what the second case makes of it.
LAST, LAST_EDITED = "特此报告。", "特此报告。如对本报告有疑问，请与市政府信息公开办公室联系。"


def long_body() -> str:
    """The annual report's text (from its first paragraph on) as the body of a notice."""
    lines = [ln.strip() for ln in REPORT.read_text(encoding="utf-8").splitlines() if ln.strip()]
    start = next(k for k, ln in enumerate(lines) if ln.startswith("本年报根据"))
    return "".join(f"<p>　　{ln}</p>\n" for ln in [*lines[start:], LAST])


def make_portal(root: Path, n: int) -> list[Path]:
    """The sample portal plus n generated notices in column 1001 (as pipeline_bench makes it)
    and, after them, one of a long text (the second case)."""
    shutil.copytree(PORTAL, root)
    html = (root / TEMPLATE).read_text(encoding="utf-8")
    body = html[html.index('<div id="zoom">') : html.index("</div>", html.index('<div id="zoom">'))]
    lis, files = [], []
    for i in range(n + 1):
        title = f"关于2026年冬季森林防火工作的第{i + 1}号通告" if i < n else "永康市2012年度政府信息公开年度报告（通告）"
        path = f"art/2026/11/20/art_1001_{700000 + i}.html"
        page = html.replace("关于2026年冬季森林防火工作的通告", title).replace("5101", str(700000 + i))
        if i == n:
            page = page.replace(body, '<div id="zoom">\n' + long_body())
        (root / path).write_text(page, encoding="utf-8")
        lis.append(f'<li><a href="/{path}" title="{title}">{title}</a><span>2026-11-20</span></li>')
        files.append(root / path)
    listing = root / "col/col1001/index.html"
    text = listing.read_text(encoding="utf-8")
    listing.write_text(text.replace('<ul class="xxgk-list">\n', '<ul class="xxgk-list">\n' + "\n".join(lis) + "\n"), encoding="utf-8")
    return files


@dataclass(frozen=True)
class Case:
    """One update: the edited item as published, the files it wrote (name → bytes), the
    delivery, the parts of the version and the bytes of its whole channel in format 1."""

    item: ItemSpec
    sent: dict[str, int]
    delivery: DeliveryReport
    parts: set[str]
    whole: int


def snapshot(headend: Path) -> dict[str, tuple[int, int]]:
    """Every file of the headend → (size, mtime_ns)."""
    return {str(p.relative_to(headend)): (p.stat().st_size, p.stat().st_mtime_ns) for p in headend.rglob("*") if p.is_file()}


def wire_bytes(host: str, port: int, headers: dict[str, str]) -> tuple[int, int, dict[str, str]]:
    """GET /channel.xml: (status, bytes received — status line, headers and body, headers)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/channel.xml", headers=headers)
    r = conn.getresponse()
    body = r.read()
    head = f"HTTP/1.1 {r.status} {r.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in r.getheaders()) + "\r\n"
    conn.close()
    return r.status, len(head.encode()) + len(body), dict(r.getheaders())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--edit", type=int, default=None, help="which generated item to edit (default: the middle one)")
    ap.add_argument(
        "--where",
        choices=("end", "start"),
        default="end",
        help="edit the last paragraph (its last page changes) or the first (the text reflows: every page)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work folder (portal, store, headend)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tvp-update-bench-"))
    files = make_portal(tmp / "portal", args.items)
    edit = files[args.edit if args.edit is not None else args.items // 2]
    with StaticServer(tmp / "portal") as srv:
        cfg = demo_config(srv.url, tmp / "work")
        cfg["sources"] = [s for s in cfg["sources"] if s["name"] == "notices"]
        cfg["sources"][0]["options"]["max_items"] = args.items + 50
        rt = Runtime(parse_settings(cfg, tmp))
        headend = Path(cfg["targets"][0]["options"]["path"])
        t0 = time.perf_counter()
        poll_source(rt, "notices")
        screen_items(rt, limit=100000)
        render_items(rt, limit=100000)
        cv1 = publish(rt)
        [r1] = deliver(rt)
        assert cv1 is not None and r1.status == "done", r1.error
        print(f"built: {cv1.items} items, {cv1.pages} pages, version {cv1.version}, {r1.bytes / 1e6:.1f} MB delivered "
              f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip

        def update(path: Path, old: str, new: str) -> Case:
            """A silent edit of the body, as a portal editor makes one (same title, same date),
            read again, published and delivered."""
            with rt.store.read() as db:
                item = db.exec(select(Item).where(col(Item.url).endswith("/" + str(path.relative_to(tmp / "portal"))))).one()
            html = path.read_text(encoding="utf-8")
            assert old in html, old
            path.write_text(html.replace(old, new, 1), encoding="utf-8")
            before = snapshot(headend)
            poll_source(rt, "notices", recheck=[item.id or 0])
            screen_items(rt, limit=100000)
            render_items(rt, limit=100000)
            cv = publish(rt)
            [r] = deliver(rt)
            assert cv is not None and r.status == "done", r.error
            after = snapshot(headend)
            sent = {name: size for name, (size, mtime) in after.items() if before.get(name, (None, None))[1] != mtime}
            root = (headend / "channel.xml").read_bytes()
            parts = {h for h in manifest_tree(root, folder_reader(headend)) if h.endswith(".xml")}
            whole = expand_manifest(root, folder_reader(headend))
            [it] = [i for i in read_spec(whole)[0].items if i.id == item_ref(item.id)]
            return Case(it, sent, r, parts, len(whole))

        old, new = {
            "end": ("烧荒烧炭", "烧荒烧炭、焚烧秸秆"),
            "start": ("为切实做好", "为进一步切实做好"),
            "reflow": (
                "有关事项通告如下。",
                "有关事项通告如下。各乡镇（街道）、各有关部门要高度重视，压实责任，加强巡查，确保不发生重大森林火灾。",
            ),
        }[args.where]
        cases = [("", update(edit, old, new)), ("long item, last paragraph: ", update(files[-1], LAST, LAST_EDITED))]

    for label, c in cases:
        pages = sum(n for name, n in c.sent.items() if name.endswith(".png"))
        part_bytes = sum(n for name, n in c.sent.items() if name in c.parts)
        root_bytes = c.sent.get("channel.xml", 0)
        other = sum(c.sent.values()) - pages - part_bytes - root_bytes
        item_new = sum(p.bytes for p in c.item.pages if f"assets/{p.sha256}.png" in c.sent)
        total = pages + part_bytes + root_bytes + other
        print(f"{label}one-item update of {c.item.id} ({len(c.item.pages)} pages): {len(c.sent)} files, {total} B written "
              f"(delivery report: {c.delivery.files} files, {c.delivery.bytes} B)")  # fmt: skip
        print(f"  pages           {pages:8d} B  (the item's new pages {item_new} B, other pages {pages - item_new} B)")
        print(f"  manifest parts  {part_bytes:8d} B  ({len([n for n in c.sent if n in c.parts])} of the {len(c.parts)} parts)")
        print(f"  channel.xml     {root_bytes:8d} B")
        if other:
            print(f"  other           {other:8d} B  (exports, video)")
        print(f"ratio: bytes written / the item's new pages = {total / item_new:.3f}" + ("" if label else " (target ≤ 1.3)"))
        if not label:
            print(f"format 1, same run: the whole channel.xml is {c.whole} B, the update would have written "
                  f"{pages + c.whole + other} B = {(pages + c.whole + other) / item_new:.3f}× the item's new pages")  # fmt: skip

    server, _ = serve_preview(headend)
    try:
        host, port = server.server_address[:2]
        status, full, headers = wire_bytes(str(host), int(port), {})
        s2, cond, _ = wire_bytes(str(host), int(port), {"If-None-Match": headers.get("ETag", "")})
        s3, cond_date, _ = wire_bytes(str(host), int(port), {"If-Modified-Since": headers.get("Last-Modified", "")})
    finally:
        server.close()
    print(f"a box polling the unchanged channel: plain GET {status} {full} B on the wire; "
          f"If-None-Match {s2} {cond} B; If-Modified-Since {s3} {cond_date} B")  # fmt: skip
    rt.close()
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
