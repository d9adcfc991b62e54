"""Issue 18, failures that heal: an item that failed to render is drawn again by itself after a
backoff that doubles with each automatic retry that failed again, at once when the configuration
or a font changes, and now with ``pusher retry``; every retry is in the audit log."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from test_operator_day import LATIN_ONLY, run, small_channel, write_config

from pusher.config.settings import load_settings
from pusher.runtime import Runtime
from pusher.stages import screen_items
from pusher.stages.render import RETRY_AFTER, RETRY_MAX, render_items, requeue_failed, retry_delay
from pusher.states import ItemState
from pusher.store.models import Audit, AuditAction, Item
from pusher.timeutil import utcnow
from pusher.web.httpserve import StaticServer


def _failed_at(rt: Runtime, seconds_ago: float) -> None:
    """Every failed item as if it had failed ``seconds_ago``."""
    with rt.store.write() as db:
        for it in db.exec(select(Item).where(Item.state == ItemState.FAILED)):
            it.updated_at = utcnow() - timedelta(seconds=seconds_ago)
            db.add(it)


def _audit(rt: Runtime, action: AuditAction) -> list[Audit]:
    with rt.store.read() as db:
        return list(db.exec(select(Audit).where(Audit.action == action.value).order_by(col(Audit.id))))


def test_retry_delay_doubles_up_to_a_day() -> None:
    assert [retry_delay(n) for n in range(4)] == [RETRY_AFTER, 2 * RETRY_AFTER, 4 * RETRY_AFTER, 8 * RETRY_AFTER]
    assert retry_delay(40) == retry_delay(10_000) == RETRY_MAX


def test_failed_renders_back_off_exponentially_and_are_audited(
    portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "c.toml", {**small_channel(portal.url, tmp_path / "w"), "render": LATIN_ONLY})
    assert run(capsys, "poll", "--config", str(cfg))[0] == 0
    os.utime(cfg, (0, 0))  # the configuration is older than any failure: only the backoff heals
    rt = Runtime(load_settings(cfg))
    try:
        assert screen_items(rt)
        rep = render_items(rt)
        assert rep.failed and not rep.items
        n = rep.failed
        _failed_at(rt, RETRY_AFTER - 30)
        assert requeue_failed(rt) == []  # not yet
        _failed_at(rt, RETRY_AFTER + 1)
        assert len(requeue_failed(rt)) == n
        healed = _audit(rt, AuditAction.RENDER_HEAL)
        assert len(healed) == n and all(a.detail.startswith("version ") and "glyph" in a.reason for a in healed)
        assert render_items(rt).failed == n  # the font is still Latin: they fail again
        # One automatic retry failed: the next waits twice as long.
        _failed_at(rt, RETRY_AFTER + 1)
        assert requeue_failed(rt) == []
        _failed_at(rt, 2 * RETRY_AFTER + 1)
        assert len(requeue_failed(rt)) == n
        assert render_items(rt).failed == n
        _failed_at(rt, 2 * RETRY_AFTER + 1)
        assert requeue_failed(rt) == []  # now 4 × RETRY_AFTER
        assert len(_audit(rt, AuditAction.RENDER_HEAL)) == 2 * n
    finally:
        rt.close()
    # status says when each heals by itself: 4 × RETRY_AFTER after its (back-dated) failure.
    code, out, _ = run(capsys, "status", "--json", "--config", str(cfg))
    failed = json.loads(out)["failed"]
    for f in failed:
        due = datetime.fromisoformat(f["retry_at"]) - datetime.fromisoformat(f["since"])
        assert due == timedelta(seconds=4 * RETRY_AFTER), f
    code, out, _ = run(capsys, "status", "--config", str(cfg))
    assert f"下次自动重试 {failed[0]['retry_at']}" in out

    # The operator retries one now, whatever the backoff: audited as render.retry.
    rt = Runtime(load_settings(cfg))
    try:
        first = _first_failed(rt)
    finally:
        rt.close()
    code, out, err = run(capsys, "retry", str(first), "--config", str(cfg))
    assert code == 2 and "重新绘制 1 条" in out, out + err  # still the Latin font: a configuration error
    rt = Runtime(load_settings(cfg))
    try:
        [retried] = _audit(rt, AuditAction.RENDER_RETRY)
        assert retried.item_id == first and retried.reason.startswith("by operator: render: ")
        # The font is fixed (the configuration changes): every failed item is drawn at once.
        write_config(cfg, small_channel(portal.url, tmp_path / "w"))
    finally:
        rt.close()
    rt = Runtime(load_settings(cfg))
    try:
        assert len(requeue_failed(rt)) == n
        assert sum(a.reason.startswith("configuration or font changed: ") for a in _audit(rt, AuditAction.RENDER_HEAL)) == n
        assert render_items(rt).failed == 0
    finally:
        rt.close()


def _first_failed(rt: Runtime) -> int:
    with rt.store.read() as db:
        ids = list(db.exec(select(Item.id).where(Item.state == ItemState.FAILED).order_by(col(Item.id))))
    assert ids
    return int(ids[0] or 0)


def test_pusher_retry_resets_the_backoff_of_the_items_it_retries(
    portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two automatic retries failed (the next would wait 4 × RETRY_AFTER); after the operator's
    `pusher retry` fails too, the next automatic retry waits RETRY_AFTER again, and status says so."""
    cfg = write_config(tmp_path / "c.toml", {**small_channel(portal.url, tmp_path / "w"), "render": LATIN_ONLY})
    assert run(capsys, "poll", "--config", str(cfg))[0] == 0
    os.utime(cfg, (0, 0))  # only the backoff heals
    rt = Runtime(load_settings(cfg))
    try:
        assert screen_items(rt)
        n = render_items(rt).failed
        assert n >= 2
        for wait in (RETRY_AFTER, 2 * RETRY_AFTER):
            _failed_at(rt, wait + 1)
            assert len(requeue_failed(rt)) == n
            assert render_items(rt).failed == n
        _failed_at(rt, 2 * RETRY_AFTER + 1)
        assert requeue_failed(rt) == []  # 4 × RETRY_AFTER now
        first = _first_failed(rt)
    finally:
        rt.close()
    code, out, err = run(capsys, "retry", str(first), "--config", str(cfg))
    assert code == 2 and "重新绘制 1 条" in out, out + err  # still the Latin font
    code, out, _ = run(capsys, "status", "--json", "--config", str(cfg))
    [again] = [f for f in json.loads(out)["failed"] if f["id"] == first]
    assert datetime.fromisoformat(again["retry_at"]) - datetime.fromisoformat(again["since"]) == timedelta(seconds=RETRY_AFTER)
    rt = Runtime(load_settings(cfg))
    try:
        _failed_at(rt, RETRY_AFTER - 30)
        assert requeue_failed(rt) == []
        _failed_at(rt, RETRY_AFTER + 1)
        assert requeue_failed(rt) == [first]  # the others still wait 4 × RETRY_AFTER
    finally:
        rt.close()
    code, out, _ = run(capsys, "status", "--json", "--config", str(cfg))
    due = {f["id"]: datetime.fromisoformat(f["retry_at"]) - datetime.fromisoformat(f["since"]) for f in json.loads(out)["failed"]}
    assert first not in due  # requeued: no longer failed
    assert set(due.values()) == {timedelta(seconds=4 * RETRY_AFTER)}
