"""The pipeline round, written once: screen → render → publish → deliver.

The daemon, ``pusher push``, the demo, an alert and a retraction all run this one function; they
differ only in which steps they take, whether a headend's backoff is waited out, and how a
failing step is handled (the daemon logs it and goes on; a command lets it reach the operator).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pusher.runtime import Runtime
from pusher.stages import deliver, publish, render_items, screen_items
from pusher.stages.outbox import DeliveryReport
from pusher.stages.render import RenderReport
from pusher.store.models import ChannelVersion

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
        rep.screened = screen_items(rt)

    def do_render() -> None:
        rep.rendered = render_items(rt)

    def do_publish() -> None:
        rep.version = publish(rt, priority=priority)

    def do_deliver() -> None:
        if before_deliver is not None:
            before_deliver()
        rep.deliveries = deliver(rt, target, now_only_due=now_only_due)

    actions = {"screen": do_screen, "render": do_render, "publish": do_publish, "deliver": do_deliver}
    for step in STEPS:
        if step in steps:
            run(step, actions[step])
    return rep
