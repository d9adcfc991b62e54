"""Emergency alerts: on air at once ahead of a backlog, audited, expiring by themselves, cleared."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from broadcast_kit import add_item, make_runtime
from lxml import etree
from sqlmodel import col, select

from feeds.channel import NS, manifest_assets, manifest_version
from pusher.cli import main
from pusher.ops import broadcast, parse_until, raise_alert
from pusher.stages import publish
from pusher.stages.alerts import PRIORITY, active_alerts
from pusher.stages.outbox import deliver
from pusher.store.models import Alert, Audit, Delivery
from pusher.timeutil import utcnow


def _alerts(manifest: bytes) -> list[tuple[str, str]]:
    root = etree.fromstring(manifest)
    return [(a.get("level", ""), a.findtext(f"{{{NS}}}text") or "") for a in root.iter(f"{{{NS}}}alert")]


def test_an_urgent_alert_overtakes_a_backlog_of_20_deliveries_to_a_headend_that_was_down(tmp_path: Path) -> None:
    headend = tmp_path / "headend"
    headend.write_text("the mount is gone")  # down: the drop folder cannot be created
    rt = make_runtime(tmp_path)
    now = utcnow()
    for n in range(20):  # twenty publications pile up while the headend is down
        add_item(rt, n, column=["zwgk", "tzgg"][n % 2], published=now - timedelta(hours=n))
        assert publish(rt) is not None
        [rep] = deliver(rt, now_only_due=False)
        assert rep.status == "failed"
    with rt.store.read() as db:
        rows = list(db.exec(select(Delivery).order_by(col(Delivery.channel_version))))
    assert len(rows) == 20 and [r.state for r in rows] == ["superseded"] * 19 + ["pending"]
    backlog = rows[-1]
    assert backlog.attempts == 20 and backlog.next_attempt_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None) + timedelta(seconds=60)

    headend.unlink()  # up again; the outbox would wait out its backoff
    [rep] = deliver(rt)
    assert rep.status == "waiting" and not (headend / "channel.xml").exists()

    alert = raise_alert(rt, "暴雨红色预警：请市民减少外出，远离河道。", level="urgent", until=utcnow() + timedelta(hours=3))
    b = broadcast(rt, alert)
    assert b.version is not None and b.version.version == 21
    assert [r.status for r in b.deliveries] == ["done"]
    manifest = (headend / "channel.xml").read_bytes()
    assert manifest_version(manifest) == 21
    assert _alerts(manifest) == [("urgent", "暴雨红色预警：请市民减少外出，远离河道。")]
    assert all((headend / a).exists() for a in manifest_assets(manifest))  # the alert page arrived too
    alert_pages = [p for p in etree.fromstring(manifest).iter(f"{{{NS}}}page") if p.get("id", "").startswith(f"alert-{alert.id}-")]
    assert alert_pages and (headend / alert_pages[0].get("href", "")).stat().st_size > 1000
    with rt.store.read() as db:
        rows = list(db.exec(select(Delivery).order_by(col(Delivery.channel_version))))
        audit = [a.action for a in db.exec(select(Audit))]
    assert [(r.channel_version, r.state) for r in rows if r.state != "superseded"] == [(21, "done")]  # no backlog version went first
    assert rows[-1].priority == PRIORITY["urgent"] == 2
    assert "alert.raise" in audit
    rt.close()


def test_an_alert_expires_by_itself_at_the_next_publish_round(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path)
    add_item(rt, 1, published=utcnow())
    a = raise_alert(rt, "今日14时至16时进行防空警报试鸣。", level="info", until=utcnow() + timedelta(minutes=30), column="tzgg")
    cv = publish(rt)
    assert cv is not None and _alerts(cv.manifest.encode()) == [("info", "今日14时至16时进行防空警报试鸣。")]
    assert b'column="tzgg"' in cv.manifest.encode()
    assert publish(rt) is None  # nothing changed
    with rt.store.write() as db:
        row = db.get(Alert, a.id)
        assert row is not None
        row.until = utcnow() - timedelta(seconds=1)
    cv2 = publish(rt)
    assert cv2 is not None and _alerts(cv2.manifest.encode()) == []
    with rt.store.read() as db:
        row = db.get(Alert, a.id)
        assert row is not None and row.ended == "expired"
        assert [x.action for x in db.exec(select(Audit))] == ["alert.raise", "alert.expire"]
    assert active_alerts(rt) == []
    rt.close()


def test_alert_command_raises_and_clears(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text(
        f'[channel]\nworkdir = "{tmp_path / "work"}"\n[[columns]]\nid = "tzgg"\nname = "通知公告"\n'
        f'[[targets]]\nname = "headend"\nkind = "folder"\noptions = {{ path = "{tmp_path / "headend"}" }}\n',
        encoding="utf-8",
    )
    assert main(["alert", "燃气管道抢修，城西片区暂停供气。", "--level", "warning", "--until", "2h", "--config", str(cfg)]) == 0
    said = capsys.readouterr().out
    assert "提示 #1（警示）已播出，至 " in said and "headend：已送达版本 1" in said
    assert _alerts((tmp_path / "headend" / "channel.xml").read_bytes()) == [("warning", "燃气管道抢修，城西片区暂停供气。")]
    assert main(["alert", "--clear", "--config", str(cfg)]) == 0
    said = capsys.readouterr().out
    assert "已结束提示 #1" in said and "headend：已送达版本 2" in said
    assert _alerts((tmp_path / "headend" / "channel.xml").read_bytes()) == []
    assert main(["alert", "--config", str(cfg)]) == 2  # neither text nor --clear
    assert main(["alert", "x", "--until", "yesterday", "--config", str(cfg)]) == 2


def test_until_accepts_durations_times_and_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
    assert parse_until("90m", "Asia/Shanghai", now) == now + timedelta(minutes=90)
    assert parse_until("2d", "Asia/Shanghai", now) == now + timedelta(days=2)
    assert parse_until("18:30", "Asia/Shanghai", now) == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    assert parse_until("09:00", "Asia/Shanghai", now) == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # tomorrow
    assert parse_until("2026-12-01 08:00", "Asia/Shanghai", now) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_control_characters_in_an_alert_do_not_stop_the_channel(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path)
    add_item(rt, 1, published=utcnow())
    raise_alert(rt, "暴雨\x01红色预警\x08：请减少外出。", level="urgent")
    cv = publish(rt)
    assert cv is not None and _alerts(cv.manifest.encode()) == [("urgent", "暴雨红色预警：请减少外出。")]
    rt.close()
