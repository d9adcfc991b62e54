"""Column menu benchmark: a column of N titles drawn as its menu pages twice by one renderer,
as publish draws it again when one item of the column changes. The first draw breaks every
title into lines; the second finds them on the face (``renderers.chrome._entry_lines``).
Baseline in the same run: the first draw. Both come after an untimed warm-up menu of other
titles with the same characters, so that neither pays for jieba's dictionary or the glyphs.

    python bench/menu_bench.py [--items 15146] [--profile hd]

The titles are ``pipeline_bench``'s (the year's generated notices), dated today.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from pusher.interfaces import Menu, MenuEntry, PageContext
from renderers import make_renderer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=15146)
    ap.add_argument("--profile", default="hd", choices=("sd", "hd", "fhd"))
    args = ap.parse_args()
    today = dt.date(2026, 11, 20)
    titles = [f"关于2026年冬季森林防火工作的第{i + 1}号通告" for i in range(args.items)]
    menu = Menu("通知公告", tuple(MenuEntry(f"i{i}", t, today) for i, t in enumerate(titles)))
    ctx = PageContext(channel="永康市数字电视政务频道", column="通知公告", today=today)
    r = make_renderer(args.profile)
    warm = tuple(MenuEntry(f"w{i}", f"第{i}号：关于2026年冬季森林防火工作的预热通告0123456789", today) for i in range(20))
    r.render_menu(Menu("预热", warm), ctx)
    times = []
    for _ in range(2):
        t = time.perf_counter()
        pages = r.render_menu(menu, ctx)
        times.append(time.perf_counter() - t)
    print(f"{args.items} titles, {len(pages)} menu pages ({args.profile})")
    print(f"first draw {times[0]:.2f} s, drawn again {times[1]:.2f} s ({times[0] / times[1]:.2f}× faster)")


if __name__ == "__main__":
    main()
