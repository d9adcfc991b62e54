"""The yearly account of what the channel published, as the annual report of 政府信息公开 gives it.

Counted for one calendar year in the channel's time zone:

- **published**: items that went on air (now published, or since expired, or withdrawn after
  they were rendered), by the date the portal published them (first seen, if it gave none); by
  column, by publisher (发布机构), by month and by kind:
  **政策法规** (the portal column or topic says 政策法规, 法规, 规范性文件 or 政策文件),
  **发文类** (any other item with a 文号), **其他** (the rest) — the three categories of the
  annual report (2012: 312, 3215 and 11616 items);
- **pushes**: deliveries completed in the year (and the bytes sent), channel versions made;
- **held** (the gate held them for review: still held, or decided by a reviewer) and
  **rejected** items, by the year they were first seen;
- **retractions** (operator ``retract`` actions) and **alerts** (by level) in the year.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from pusher.runtime import Runtime
from pusher.states import ItemState
from pusher.store.models import REVIEW_PREFIX, Alert, AsRun, Audit, AuditAction, ChannelVersion, Delivery, DeliveryState, Item

KINDS = ("政策法规", "发文类", "其他")
POLICY_MARKERS = ("政策法规", "法规", "规范性文件", "政策文件")
NO_PUBLISHER = "（未注明）"
AIRED = (ItemState.PUBLISHED, ItemState.EXPIRED)


def kind_of(item: Item) -> str:
    where = f"{item.portal_column} {item.topic}"
    if any(m in where for m in POLICY_MARKERS):
        return "政策法规"
    if item.doc_no.strip():
        return "发文类"
    return "其他"


def aired(item: Item) -> bool:
    return item.state in AIRED or (item.state == ItemState.WITHDRAWN and item.rendered_version > 0)


@dataclass
class YearReport:
    year: int
    channel: str
    published: int = 0
    by_column: dict[str, int] = field(default_factory=dict)  # column name → items
    by_publisher: dict[str, int] = field(default_factory=dict)
    by_month: dict[int, int] = field(default_factory=dict)  # 1..12, all twelve present
    by_kind: dict[str, int] = field(default_factory=dict)  # KINDS, all three present
    pushes: int = 0
    bytes_pushed: int = 0
    versions: int = 0
    held: int = 0
    rejected: int = 0
    retractions: int = 0
    alerts: int = 0
    alerts_by_level: dict[str, int] = field(default_factory=dict)
    aired_seconds: int = 0  # live playout, from the as-run log
    aired_items: int = 0  # distinct items that went out live
    aired_by_kind: dict[str, int] = field(default_factory=dict)  # alert | home | column | item → seconds

    def rows(self) -> list[tuple[str, str, int]]:
        """(section, key, value): the long form that CSV and the table print."""
        out = [("total", "published", self.published)]
        out += [("column", k, v) for k, v in self.by_column.items()]
        out += [("publisher", k, v) for k, v in self.by_publisher.items()]
        out += [("month", f"{self.year}-{m:02d}", v) for m, v in self.by_month.items()]
        out += [("kind", k, v) for k, v in self.by_kind.items()]
        out += [("channel", "pushes", self.pushes), ("channel", "bytes_pushed", self.bytes_pushed), ("channel", "versions", self.versions)]
        out += [("gate", "held", self.held), ("gate", "rejected", self.rejected), ("operator", "retractions", self.retractions)]
        out += [("alerts", "total", self.alerts)] + [("alerts", k, v) for k, v in self.alerts_by_level.items()]
        out += [("playout", "aired_seconds", self.aired_seconds), ("playout", "aired_items", self.aired_items)]
        out += [("playout", f"{k}_seconds", v) for k, v in self.aired_by_kind.items()]
        return out


def _year_of(dt: datetime | None, tz: ZoneInfo) -> int | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(tz).year


def _bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=tz).astimezone(UTC), datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)


def year_report(rt: Runtime, year: int) -> YearReport:
    tz = ZoneInfo(rt.settings.channel.timezone)
    start, end = _bounds(year, tz)
    names = {c.id: c.name for c in rt.settings.columns}
    rep = YearReport(year, rt.settings.channel.name)
    columns: Counter[str] = Counter()
    publishers: Counter[str] = Counter()
    months: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    with rt.store.read() as db:
        reviewed = {a for a in db.exec(select(Audit.item_id).where(col(Audit.action).like(f"{REVIEW_PREFIX}%"))) if a is not None}
        for it in db.exec(select(Item).where(col(Item.duplicate_of).is_(None))):
            if _year_of(it.first_seen, tz) == year:
                rep.held += it.state == ItemState.HELD or it.id in reviewed
                rep.rejected += it.state == ItemState.REJECTED
            when = it.published or it.first_seen
            if not aired(it) or _year_of(when, tz) != year:
                continue
            rep.published += 1
            columns[names.get(it.column, it.column or "（无栏目）")] += 1
            publishers[it.publisher.strip() or NO_PUBLISHER] += 1
            months[(when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(tz).month] += 1
            kinds[kind_of(it)] += 1
        done = db.exec(
            select(func.count(), func.sum(Delivery.bytes_sent)).where(
                col(Delivery.state) == DeliveryState.DONE, col(Delivery.done_at) >= start, col(Delivery.done_at) < end
            )
        ).one()
        rep.pushes, rep.bytes_pushed = int(done[0] or 0), int(done[1] or 0)
        rep.versions = db.exec(
            select(func.count())
            .select_from(ChannelVersion)
            .where(col(ChannelVersion.created_at) >= start, col(ChannelVersion.created_at) < end)
        ).one()
        rep.retractions = db.exec(
            select(func.count())
            .select_from(Audit)
            .where(col(Audit.action) == AuditAction.RETRACT, col(Audit.at) >= start, col(Audit.at) < end)
        ).one()
        levels = Counter(a.level for a in db.exec(select(Alert).where(col(Alert.created_at) >= start, col(Alert.created_at) < end)))
        live = db.exec(
            select(AsRun.kind, func.sum(AsRun.seconds)).where(col(AsRun.aired_at) >= start, col(AsRun.aired_at) < end).group_by(AsRun.kind)
        ).all()
        rep.aired_items = db.exec(
            select(func.count(func.distinct(AsRun.item))).where(col(AsRun.aired_at) >= start, col(AsRun.aired_at) < end, AsRun.item != "")
        ).one()
    ordered = [names[c.id] for c in rt.settings.columns]
    rep.by_column = {n: columns[n] for n in ordered if columns[n]} | {n: v for n, v in columns.most_common() if n not in ordered}
    rep.by_publisher = dict(publishers.most_common())
    rep.by_month = {m: months[m] for m in range(1, 13)}
    rep.by_kind = {k: kinds[k] for k in KINDS}
    rep.alerts = sum(levels.values())
    rep.alerts_by_level = {k: levels[k] for k in ("urgent", "warning", "info") if levels[k]}
    rep.aired_by_kind = {k: int(n or 0) for k, n in sorted(live)}
    rep.aired_seconds = sum(rep.aired_by_kind.values())
    return rep


def as_run(rt: Runtime, day: date) -> list[AsRun]:
    """The as-run log of one local day, in airing order: what went out live, when, by version,
    page and item (the proof of play a broadcaster keeps)."""
    tz = ZoneInfo(rt.settings.channel.timezone)
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    with rt.store.read() as db:
        q = select(AsRun).where(col(AsRun.aired_at) >= start, col(AsRun.aired_at) < start + timedelta(days=1))
        return list(db.exec(q.order_by(col(AsRun.aired_at), col(AsRun.id))))


# -- output --------------------------------------------------------------------------------------


def to_json(rep: YearReport) -> str:
    d: dict[str, Any] = asdict(rep)
    d["by_month"] = {f"{rep.year}-{m:02d}": v for m, v in rep.by_month.items()}
    return json.dumps(d, ensure_ascii=False, indent=2)


def to_csv(rep: YearReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "key", "value"])
    w.writerows(rep.rows())
    return buf.getvalue()


CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC")


def _cjk_font() -> str:
    """The family name of an installed CJK font, registered with matplotlib."""
    from matplotlib import font_manager

    from pusher.errors import RenderError

    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in known:
            return name
    for path in font_manager.findSystemFonts():
        if "NotoSansCJK" in path or "NotoSansSC" in path:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    raise RenderError("no CJK font for the report chart: install fonts-noto-cjk")


def to_png(rep: YearReport, path: Path) -> None:
    """One page: items by month, by column, by kind and by publisher, with the year's figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    plt.rcParams["font.family"] = _cjk_font()
    plt.rcParams["axes.unicode_minus"] = False
    blue, grey = "#2f6db5", "#8a8f98"
    fig = plt.figure(figsize=(13, 9), dpi=110, layout="constrained")
    fig.suptitle(f"{rep.channel} {rep.year} 年度发布统计（共 {rep.published} 条）", fontsize=17, fontweight="bold")
    grid = fig.add_gridspec(2, 3, width_ratios=[1.2, 1.2, 0.9])

    ax = fig.add_subplot(grid[0, 0:2])
    months = [f"{m}月" for m in rep.by_month]
    bars = ax.bar(months, list(rep.by_month.values()), color=blue)
    ax.bar_label(bars, labels=[str(v) if v else "" for v in rep.by_month.values()], fontsize=9)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("按月份", loc="left")
    ax.set_ylabel("条")
    ax.spines[["top", "right"]].set_visible(False)

    ax = fig.add_subplot(grid[0, 2])
    kinds = {k: v for k, v in rep.by_kind.items() if v}
    if kinds:
        labels = [f"{k}\n{v} 条（{v / rep.published:.0%}）" for k, v in kinds.items()]
        colours = ["#c0392b", blue, grey][: len(kinds)]
        ax.pie(list(kinds.values()), labels=labels, colors=colours, startangle=90, counterclock=False,
               wedgeprops={"width": 0.45, "edgecolor": "white"}, textprops={"fontsize": 11})  # fmt: skip
    ax.set_title("按类别", loc="left")

    for slot, title, data in (
        (grid[1, 0], "按栏目", rep.by_column),
        (grid[1, 1], "按发布机构（前十）", dict(list(rep.by_publisher.items())[:10])),
    ):
        ax = fig.add_subplot(slot)
        labels = list(data)[::-1]
        bars = ax.barh(labels, [data[k] for k in labels], color=blue)
        ax.bar_label(bars, fontsize=9, padding=2)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, loc="left")
        ax.spines[["top", "right"]].set_visible(False)

    ax = fig.add_subplot(grid[1, 2])
    ax.axis("off")
    ax.set_title("推送与审核", loc="left")
    figures = [
        ("推送次数", rep.pushes), ("推送数据量", f"{rep.bytes_pushed / 1e6:.1f} MB"), ("频道版本", rep.versions),
        ("送审（暂扣）", rep.held), ("驳回", rep.rejected), ("撤回", rep.retractions),
        ("应急通知", rep.alerts),
    ]  # fmt: skip
    for n, (label, value) in enumerate(figures):
        y = 0.92 - n * 0.13
        ax.text(0.02, y, label, fontsize=13, color="#333333", transform=ax.transAxes)
        ax.text(0.98, y, str(value), fontsize=15, fontweight="bold", ha="right", color=blue, transform=ax.transAxes)
    fig.savefig(path, format="png")
    plt.close(fig)
