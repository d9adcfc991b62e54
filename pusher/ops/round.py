"""The pipeline round, written once: screen → render → publish → deliver.

The daemon, ``pusher push``, the demo, an alert and a retraction all run this one function; they
differ only in which steps they take, whether a headend's backoff is waited out, and how a
failing step is handled (the daemon logs it and goes on; a command lets it reach the operator).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, and_
from sqlmodel import col, func, select

from pusher.runtime import Runtime
from pusher.stages import deliver, publish, render_items, screen_items
from pusher.stages.outbox import DeliveryReport
from pusher.stages.render import RenderReport
from pusher.stages.screen import SCREEN_CALL
from pusher.states import ItemState
from pusher.store import claims
from pusher.store.models import ChannelVersion, Item

log = logging.getLogger("tvpusher.round")

Step = Literal["screen", "render", "publish", "deliver"]
STEPS: tuple[Step, ...] = ("screen", "render", "publish", "deliver")
#: What an alert or a retraction runs: nothing new to screen or draw, the channel must go out now.
PUBLISH_AND_DELIVER: tuple[Step, ...] = ("publish", "deliver")

#: ``wrap(step, fn)`` runs ``fn`` for a step: the daemon takes its locks and logs failures there.
Wrap = Callable[[Step, Callable[[], object]], object]


@dataclass
class RoundReport:
    screened: int = 0
    rendered: RenderReport = field(default_factory=RenderReport)
    version: ChannelVersion | None = None
    deliveries: list[DeliveryReport] = field(default_factory=list)
    stopped: bool = False  # a stop request cut the round short
    released: int = 0  # claims of dead processes of this host taken back before drawing
    drawing_elsewhere: int = 0  # items screened but held by another live process: not in this version yet

    @property
    def failed(self) -> bool:
        return any(d.status == "failed" for d in self.deliveries)


def run_round(
    rt: Runtime,
    *,
    steps: Sequence[Step] = STEPS,
    target: str | None = None,
    now_only_due: bool = True,
    priority: int = 0,
    before_deliver: Callable[[], object] | None = None,
    wrap: Wrap | None = None,
) -> RoundReport:
    """One round of the given ``steps`` in flow order.

    ``target``: deliver to that target only; ``now_only_due=False`` ignores backoff (an
    operator asked for it); ``priority`` is the new version's delivery priority (alerts);
    ``before_deliver`` runs after publishing (``push --item`` checks its item is on air there).
    """
    rep = RoundReport()

    def run(step: Step, fn: Callable[[], object]) -> None:
        if rt.stopping.is_set():
            rep.stopped = True
            return
        if wrap is None:
            fn()
        else:
            wrap(step, fn)

    def do_screen() -> None:
        # Everything waiting, a call's worth at a time: a backlog left past one call waited
        # for the next round (issue 19).
        while not rt.stopping.is_set():
            n = screen_items(rt, limit=SCREEN_CALL)
            rep.screened += n
            if n < SCREEN_CALL:
                break

    def do_render() -> None:
        # A `pusher push` killed while drawing leaves its claims for the lease (120 s): the
        # items would miss this version though nobody draws them. The daemon does this at start.
        rep.released = claims.release_dead(rt.store)
        if rep.released:
            log.info("took back %d render claims of dead processes", rep.released)
        rep.rendered = render_items(rt)
        rep.drawing_elsewhere = _drawing_elsewhere(rt)

    def do_publish() -> None:
        rep.version = publish(rt, priority=priority)

    def do_deliver() -> None:
        if before_deliver is not None:
            before_deliver()
        rep.deliveries = deliver(rt, target, now_only_due=now_only_due)

    def do_publish_said() -> None:
        do_publish()
        if rep.drawing_elsewhere:
            # Never a silent gap: the operator hears which items the version waits for.
            log.warning("%d screened items are being drawn by another process (%s): they join the next version",
                        rep.drawing_elsewhere, ", ".join(_holders(rt)))  # fmt: skip

    actions = {"screen": do_screen, "render": do_render, "publish": do_publish_said, "deliver": do_deliver}
    for step in STEPS:
        if step in steps:
            run(step, actions[step])
    return rep


def _elsewhere(rt: Runtime) -> ColumnElement[bool]:
    me = claims.node_name(rt)
    return and_(col(Item.state) == ItemState.SCREENED, col(Item.claimed_by) != "", col(Item.claimed_by) != me)


def _drawing_elsewhere(rt: Runtime) -> int:
    with rt.store.read() as db:
        return int(db.exec(select(func.count()).select_from(Item).where(_elsewhere(rt))).one())


def _holders(rt: Runtime) -> list[str]:
    with rt.store.read() as db:
        return sorted(set(db.exec(select(Item.claimed_by).where(_elsewhere(rt)))))
