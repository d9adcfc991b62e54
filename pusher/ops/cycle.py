"""A whole cycle, as the demo and the tests run it: poll every source, then one round."""

from __future__ import annotations

from dataclasses import dataclass, field

from pusher.ops.round import run_round
from pusher.ops.status import collect_status
from pusher.runtime import Runtime
from pusher.stages import poll_source
from pusher.stages.outbox import DeliveryReport


@dataclass
class CycleReport:
    polled: int = 0
    new: int = 0
    changed: int = 0
    withdrawn: int = 0
    source_errors: list[str] = field(default_factory=list)
    screened: int = 0
    rendered_items: int = 0
    rendered_pages: int = 0
    version: int | None = None
    delivered: list[str] = field(default_factory=list)
    deliveries: list[DeliveryReport] = field(default_factory=list)  # every target's, as the CLI prints them
    delivery_errors: list[str] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)  # items by state after the round


def run_cycle(rt: Runtime, sources: list[str] | None = None) -> CycleReport:
    """Poll every enabled source (or those named), then screen, render, publish and deliver."""
    rep = CycleReport()
    for s in sources if sources is not None else [s.name for s in rt.settings.sources if s.enabled]:
        r = poll_source(rt, s)
        rep.polled += 1
        rep.new, rep.changed, rep.withdrawn = rep.new + r.new, rep.changed + r.changed, rep.withdrawn + r.withdrawn
        if r.error:
            rep.source_errors.append(r.error)
        rep.source_errors += r.item_errors
    rnd = run_round(rt)
    rep.screened = rnd.screened
    rep.rendered_items, rep.rendered_pages = rnd.rendered.items, rnd.rendered.pages
    rep.version = rnd.version.version if rnd.version else None
    rep.deliveries = list(rnd.deliveries)
    for d in rnd.deliveries:
        if d.status == "done":
            rep.delivered.append(f"{d.target}: version {d.version}, {d.files} files, {d.bytes} bytes")
        elif d.status == "failed":
            rep.delivery_errors.append(d.error)
    rep.states = {k: v for k, v in collect_status(rt).items.items() if v}
    return rep
