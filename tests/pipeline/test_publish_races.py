"""Publish against operators and polls writing while it plans: what changed meanwhile must not air."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from feeds.xmlsafe import parse_xml
from pusher.ops import raise_alert, run_cycle
from pusher.ops import retract as retract_item
from pusher.runtime import Runtime
from pusher.stages import publish
from pusher.stages.manifest import full_manifest
from pusher.states import ItemState
from pusher.store.models import ChannelVersion, Item

NS = "{urn:tvpusher:channel:1}"


def item_ids(manifest: str) -> set[str]:
    return {e.get("id") or "" for e in parse_xml(manifest.encode("utf-8")).iter(f"{NS}item")}


def test_an_item_retracted_while_publish_plans_does_not_air(demo_rt: Runtime) -> None:
    run_cycle(demo_rt)
    with demo_rt.store.read() as db:
        victim = db.exec(select(Item).where(Item.state == ItemState.PUBLISHED).order_by(col(Item.id))).first()
    assert victim is not None and victim.id is not None
    victim_id = victim.id
    alert = raise_alert(demo_rt, "今晚22时起停水", level="warning")  # the channel changes: publish makes a version

    # The operator's retraction commits while publish draws the alert page, after it read the items.
    renderer: Any = demo_rt.renderer
    hook = "render_alert" if hasattr(renderer, "render_alert") else "render_item"
    real = getattr(renderer, hook)
    done: list[bool] = []

    def render(*args: Any, **kwargs: Any) -> Any:
        if not done:
            done.append(True)
            retract_item(demo_rt, victim_id, "内容有误")
        return real(*args, **kwargs)

    setattr(renderer, hook, render)
    cv = publish(demo_rt)
    assert done, "the hook never ran: publish no longer renders the alert page while planning"
    with demo_rt.store.read() as db:
        newest = db.exec(select(ChannelVersion).order_by(col(ChannelVersion.version).desc())).first()
    assert cv is not None and newest is not None and newest.version == cv.version
    assert f"i{victim_id}" not in item_ids(full_manifest(demo_rt, newest).decode()), "a retracted item went out in the new channel version"
    assert [e.get("id") for e in parse_xml(newest.manifest.encode("utf-8")).iter(f"{NS}alert")] == [f"a{alert.id}"]


def test_an_alert_cleared_while_publish_plans_does_not_air(demo_rt: Runtime) -> None:
    from pusher.ops import clear_alerts

    run_cycle(demo_rt)
    first = raise_alert(demo_rt, "今晚22时起停水", level="warning")
    assert publish(demo_rt) is not None
    second = raise_alert(demo_rt, "明日8时起道路封闭", level="info")

    # The operator clears the first alert while publish draws the second one's page.
    renderer: Any = demo_rt.renderer
    hook = "render_alert" if hasattr(renderer, "render_alert") else "render_item"
    real = getattr(renderer, hook)
    done: list[bool] = []

    def render(*args: Any, **kwargs: Any) -> Any:
        if not done:
            done.append(True)
            clear_alerts(demo_rt, first.id)
        return real(*args, **kwargs)

    setattr(renderer, hook, render)
    cv = publish(demo_rt)
    assert done and cv is not None
    aired = [e.get("id") for e in parse_xml(cv.manifest.encode("utf-8")).iter(f"{NS}alert")]
    assert aired == [f"a{second.id}"], "a cleared alert went out in the new channel version"
