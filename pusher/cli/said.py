"""Operator-facing Chinese for texts the library writes in English for logs and JSON.

``/healthz``, ``status --json`` and the logs keep the English reasons of
:mod:`pusher.ops.health` (scripts and alerting match them); ``pusher status`` shows them in the
operators' language. A reason without a pattern here is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_HEALTH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^source (?P<n>\S+) failing for (?P<s>[\d.]+)s: (?P<e>.*)$", re.S),
     lambda m: f"来源 {m['n']} 已连续失败 {m['s']} 秒：{m['e']}"),
    (re.compile(r"^target (?P<n>\S+) failing for (?P<s>[\d.]+)s: (?P<e>.*)$", re.S),
     lambda m: f"目标 {m['n']} 已连续失败 {m['s']} 秒：{m['e']}"),
    (re.compile(r"^source (?P<n>\S+) failing since (?P<t>\S+): (?P<e>.*)$", re.S),
     lambda m: f"来源 {m['n']} 自 {m['t']} 起失败：{m['e']}"),
    (re.compile(r"^target (?P<n>\S+) failing since (?P<t>\S+): (?P<e>.*)$", re.S),
     lambda m: f"目标 {m['n']} 自 {m['t']} 起失败：{m['e']}"),
    (re.compile(r"^scheduler stuck: no heartbeat for (?P<s>[\d.]+)s$"), lambda m: f"调度器停滞：{m['s']} 秒没有心跳"),
    (re.compile(r"^carousel cycle (?P<c>[\d.]+)s exceeds broadcast\.max_cycle_seconds (?P<l>[\d.]+)s \((?P<b>\d+) bytes\)$"),
     lambda m: f"轮播周期 {m['c']} 秒，超过上限 broadcast.max_cycle_seconds {m['l']} 秒（{m['b']} 字节）"),
    (re.compile(r"^no live node leads the scheduler$"), lambda m: "没有在线节点主持调度"),
    (re.compile(r"^(?P<n>\d+) items failed to render \(pusher retry --all once the cause is fixed\)$"),
     lambda m: f"{m['n']} 条绘制失败（排除原因后运行 pusher retry --all）"),
]  # fmt: skip


def health_said(reason: str) -> str:
    """A health reason of :mod:`pusher.ops.health` in Chinese (the names and errors in it as they are)."""
    for pattern, say in _HEALTH:
        if m := pattern.match(reason):
            return say(m)
    return reason
