"""The yearly report against counts computed here from the fixture itself."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcast_kit import make_runtime
from PIL import Image

from pusher.cli import main
from pusher.ops.report import to_csv, to_png, year_report
from pusher.states import ItemState
from pusher.store.models import Alert, Audit, ChannelVersion, Delivery, Item

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2025
COLUMN_NAMES = {"zwgk": "政府信息公开", "dwgk": "党务公开", "cwgk": "村务公开", "zwfw": "政务服务", "tzgg": "通知公告"}
PUBLISHERS = ["市政府办公室", "市财政局", "市住建局", "市农业农村局", ""]


@dataclass
class Row:
    when: datetime  # local
    column: str
    publisher: str
    doc_no: str
    portal_column: str
    state: ItemState
    rendered: int


def _fixture(seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    for n in range(400):
        # Some fall just outside the year in local time (but inside it in UTC, or the reverse).
        if n % 40 == 0:
            when = datetime(YEAR, 1, 1, 7, 30, tzinfo=SH) - timedelta(hours=8)  # 2024-12-31 23:30 local
        elif n % 40 == 1:
            when = datetime(YEAR + 1, 1, 1, 0, 30, tzinfo=SH)  # 2026 local, 2025 in UTC
        else:
            when = datetime(YEAR, 1, 1, tzinfo=SH) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        kind = rng.random()
        rows.append(
            Row(
                when=when,
                column=rng.choice(list(COLUMN_NAMES)),
                publisher=rng.choice(PUBLISHERS),
                doc_no=f"永政发〔{YEAR}〕{n}号" if kind < 0.3 else "",
                portal_column=rng.choice(["政策法规", "规范性文件"]) if kind > 0.9 else rng.choice(["通知公告", "部门文件"]),
                state=rng.choice([ItemState.PUBLISHED] * 5 + [ItemState.EXPIRED, ItemState.WITHDRAWN, ItemState.HELD, ItemState.REJECTED]),
                rendered=rng.choice([0, 1, 1]),
            )
        )
    return rows


def test_the_report_for_a_year_matches_counts_computed_from_the_fixture(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path)
    rows = _fixture()
    reviewed = set()
    with rt.store.write() as db:
        for n, r in enumerate(rows):
            at = r.when.astimezone(UTC)
            db.add(Item(id=n + 1, source="s", url=f"http://p/{n}", title=f"第{n}条", column=r.column, publisher=r.publisher, doc_no=r.doc_no,
                        portal_column=r.portal_column, state=r.state, rendered_version=r.rendered if r.state == ItemState.WITHDRAWN else 1,
                        published=at, first_seen=at))  # fmt: skip
            if n % 7 == 0 and r.state != ItemState.HELD:  # held once, then decided by a reviewer
                db.add(Audit(at=at, actor="r", action="review.approve-masked", item_id=n + 1))
                reviewed.add(n)
        for v in range(1, 31):  # versions and deliveries: 25 in the year, 5 in the next one
            at = datetime(YEAR, 1, 1, tzinfo=SH).astimezone(UTC) + timedelta(days=12 * v)
            db.add(ChannelVersion(version=v, created_at=at, digest=str(v), manifest="<x/>"))
            db.add(Delivery(target="headend", channel_version=v, state="done" if v % 6 else "superseded", done_at=at, bytes_sent=1000 * v))
        retract_days = [3, 100, 200, 380]
        for d in retract_days:
            db.add(Audit(at=datetime(YEAR, 1, 1, tzinfo=SH).astimezone(UTC) + timedelta(days=d), actor="op", action="retract", item_id=1))
        levels = ["urgent", "warning", "warning", "info", "urgent"]
        for k, lv in enumerate(levels):
            db.add(Alert(text=f"预警{k}", level=lv, created_at=datetime(YEAR, 3 + k, 1, tzinfo=SH).astimezone(UTC)))
        db.add(Alert(text="去年", level="urgent", created_at=datetime(YEAR - 1, 12, 31, 23, 0, tzinfo=SH).astimezone(UTC)))

    # Independently: what the report should say.
    def aired(r: Row) -> bool:
        return r.state in (ItemState.PUBLISHED, ItemState.EXPIRED) or (r.state == ItemState.WITHDRAWN and r.rendered > 0)

    def kind(r: Row) -> str:
        return "政策法规" if r.portal_column in ("政策法规", "规范性文件") else "发文类" if r.doc_no else "其他"

    in_year = [r for r in rows if r.when.astimezone(SH).year == YEAR]
    pub = [r for r in in_year if aired(r)]
    rep = year_report(rt, YEAR)
    assert rep.published == len(pub) > 200
    assert rep.by_column == {COLUMN_NAMES[c]: n for c, n in Counter(r.column for r in pub).items()}
    assert rep.by_publisher == dict(Counter(r.publisher or "（未注明）" for r in pub))
    assert rep.by_month == {m: sum(1 for r in pub if r.when.astimezone(SH).month == m) for m in range(1, 13)}
    assert rep.by_kind == {k: sum(1 for r in pub if kind(r) == k) for k in ("政策法规", "发文类", "其他")}
    assert all(rep.by_kind.values())
    assert rep.held == sum(1 for n, r in enumerate(rows) if r.when.year == YEAR and (r.state == ItemState.HELD or n in reviewed))
    assert rep.rejected == sum(1 for r in in_year if r.state == ItemState.REJECTED)
    done_in_year = [v for v in range(1, 31) if v % 6 and (datetime(YEAR, 1, 1, tzinfo=SH) + timedelta(days=12 * v)).year == YEAR]
    assert rep.pushes == len(done_in_year) and rep.bytes_pushed == 1000 * sum(done_in_year)
    assert rep.versions == sum(1 for v in range(1, 31) if (datetime(YEAR, 1, 1, tzinfo=SH) + timedelta(days=12 * v)).year == YEAR)
    assert rep.retractions == 3
    assert rep.alerts == 5 and rep.alerts_by_level == {"urgent": 2, "warning": 2, "info": 1}

    table = {(s, k): v for s, k, v in csv.reader(io.StringIO(to_csv(rep)))}
    assert table[("total", "published")] == str(len(pub)) and table[("kind", "发文类")] == str(rep.by_kind["发文类"])

    png = tmp_path / "report.png"
    to_png(rep, png)
    with Image.open(png) as img:
        assert img.format == "PNG" and img.width >= 1200 and img.height >= 900
        # Drawn, not blank: many distinct colours (bars, the ring chart, CJK text).
        assert len(img.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 50
    shutil_copy = Path(__file__).resolve().parents[1] / "_artifacts" / "broadcast"
    shutil_copy.mkdir(parents=True, exist_ok=True)
    (shutil_copy / "report.png").write_bytes(png.read_bytes())  # for a person to look at

    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text(f'[channel]\nworkdir = "{tmp_path / "work"}"\n', encoding="utf-8")
    out = tmp_path / "r.json"
    assert main(["report", "--year", str(YEAR), "--format", "json", "--out", str(out), "--config", str(cfg)]) == 0
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got["published"] == len(pub) and got["by_month"][f"{YEAR}-03"] == rep.by_month[3]
    rt.close()
