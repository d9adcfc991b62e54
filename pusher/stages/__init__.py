"""The pipeline stages, in flow order. Each reads its work from the store, does it outside any
transaction, writes results back in short transactions, and is idempotent: running a stage twice
does nothing new the second time.

poll (portal → items) → screen (gate) → render (pages) → publish (channel version) → deliver (targets)
"""

from pusher.stages.deliver import deliver
from pusher.stages.poll import PollReport, poll_source
from pusher.stages.publish import publish
from pusher.stages.render import render_items
from pusher.stages.screen import screen_items

__all__ = ["PollReport", "deliver", "poll_source", "publish", "render_items", "screen_items"]
