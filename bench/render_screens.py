"""Screens to look at: home, column menu, article, heading-heavy, contents, table, picture and
single pages and the last page of an item cut at ``render.max_pages``, at SD, HD and FHD, and the
长辈版 (``render.style = "elderly"``) of the home, menu, contents, article, table and single page.

    python bench/render_screens.py [OUT_DIR]      (default: /work/notes/screens)

Real content only: the Yongkang annual report, the Dingxi datastore list as a column menu and
as a table, a photo-like test image. The PNGs are the renderer's exact bytes.
"""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "renderers"))

from PIL import Image, ImageDraw  # noqa: E402
from render_corpus import CTX, reference_doc, table_doc  # noqa: E402

from pusher.interfaces import Block, Document, Menu, MenuEntry, PageContext  # noqa: E402
from renderers import make_renderer  # noqa: E402
from renderers.settings import RenderSettings  # noqa: E402

COLUMNS = ["政务动态", "通知公告", "政策文件", "政府信息公开年报", "人事信息", "便民服务", "招标采购", "应急管理"]
KEYS = (("red", "通知公告"), ("green", "政策文件"), ("yellow", "政务动态"), ("blue", "便民服务"))


def heading_page(pages: list, min_heads: int = 3) -> int:
    """The first page with the most headings (a heading-heavy page)."""
    counts = [sum(1 for role in p.roles if role == "head") for p in pages]
    return max(range(len(pages)), key=lambda k: (counts[k] >= min_heads, counts[k], -k))


def picture() -> bytes:
    im = Image.new("RGB", (800, 500))
    d = ImageDraw.Draw(im)
    for y in range(500):
        d.line((0, y, 800, y), fill=(60 + y // 4, 120 + y // 8, 200 - y // 5))
    d.rectangle((120, 180, 680, 460), fill=(200, 190, 170))
    d.rectangle((160, 240, 300, 460), fill=(90, 70, 60))
    d.rectangle((360, 230, 640, 330), fill=(120, 160, 200))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = table_doc().blocks[1].rows[1:]
    column = Menu("信息公开目录", tuple(MenuEntry(f"item-{i}", t, date.fromisoformat(d)) for i, (t, d) in enumerate(rows)))
    titles = [t for t, _ in rows]
    home = Menu(
        "永康政务",
        tuple(MenuEntry(f"col-{i}", f"{n}（{3 + i}）", note=titles[i]) for i, n in enumerate(COLUMNS)),
        "home",
        keys=KEYS,
    )
    home_few = Menu("永康政务", tuple(MenuEntry(f"col-{i}", f"{n}（{3 + i}）", note=titles[i]) for i, n in enumerate(COLUMNS[:3])), "home")
    column = Menu(column.title, column.entries, keys=KEYS)
    pic_doc = Document(
        url="http://www.yk.gov.cn/art/2013/1/5/art_1229_2.html",
        title="市行政服务中心新址正式启用",
        blocks=(
            Block("p", "1月5日，市行政服务中心新址正式启用，42个部门的进驻窗口同时对外办理业务。"),
            Block("img", text="市行政服务中心新址办事大厅", src="http://www.yk.gov.cn/picture/0/a.jpg"),
        ),
    )
    short = Document(
        url=pic_doc.url, title="关于调整部分公交线路的公告", blocks=(Block("p", "自12月1日起，K3路公交线路延伸至市行政服务中心。"),)
    )
    for profile in ("sd", "hd", "fhd"):
        r = make_renderer(profile, images=lambda _src: picture())
        old = make_renderer(profile, RenderSettings(style="elderly"), images=lambda _src: picture())
        cut = make_renderer(profile, RenderSettings(max_pages=5))
        home_ctx = PageContext(CTX.channel, "", CTX.today)
        menu_ctx = PageContext(CTX.channel, "信息公开目录", CTX.today)
        report = r.render_item(reference_doc(), CTX)
        old_report = old.render_item(reference_doc(), CTX)
        shots = {
            "home": r.render_menu(home, home_ctx)[0],
            "home-few": r.render_menu(home_few, home_ctx)[0],
            "menu": r.render_menu(column, menu_ctx)[0],
            "contents": report[0],
            "article": report[1],
            "headings": report[heading_page(list(report))],
            "table": r.render_item(table_doc(), menu_ctx)[1],
            "picture": r.render_item(pic_doc, CTX)[-1],
            "single": r.render_item(short, CTX)[0],
            "elderly-home": old.render_menu(home, home_ctx)[0],
            "elderly-menu": old.render_menu(column, menu_ctx)[0],
            "elderly-contents": old_report[0],
            "elderly-article": old_report[heading_page(list(old_report), 2)],
            "elderly-table": old.render_item(table_doc(), menu_ctx)[1],
            "elderly-single": old.render_item(short, CTX)[0],
            "rest": cut.render_item(reference_doc(), CTX)[-1],
        }
        for name, page in shots.items():
            path = out / f"{profile}-{name}.png"
            path.write_bytes(page.png)
            print(f"{path}  {len(page.png) / 1024:.1f} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/notes/screens"))
