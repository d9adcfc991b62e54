"""Operations: what an operator or the daemon does, as library calls.

Every command of the CLI, the daemon and the demo is a thin call into this package (as
sqlite-utils' ``cli.py`` is over ``db.py``)::

    run_round(rt)                        screen → render → publish → deliver, written once
    run_cycle(rt)                        poll every source, then a round (the demo)
    approve(rt, id, reason) / reject     decide on an item the gate held (audited)
    retract(rt, id, reason)              take an item off the air (audited)
    retry(rt, [id…])                     failed items drawn again now (``pusher retry``)
    ensure_on_air(rt, id)                ``push --item`` (audited)
    raise_alert / clear_alerts / broadcast   alerts on air at once (audited)
    export_version(rt, kind, version)    XMLTV, playlist or RSS of a stored version
    collect_status(rt) / year_report     what ``status`` and ``report`` show (pusher.ops.status, .report)
"""

from pusher.ops.alerts import Broadcast, broadcast, clear_alerts, parse_until, raise_alert
from pusher.ops.cycle import CycleReport, run_cycle
from pusher.ops.exports import Export, channel_version, export_version
from pusher.ops.items import approve, ensure_on_air, reject, retract, retry
from pusher.ops.round import PUBLISH_AND_DELIVER, STEPS, RoundReport, Step, run_round

__all__ = [
    "PUBLISH_AND_DELIVER",
    "STEPS",
    "Broadcast",
    "CycleReport",
    "Export",
    "RoundReport",
    "Step",
    "approve",
    "broadcast",
    "channel_version",
    "clear_alerts",
    "ensure_on_air",
    "export_version",
    "parse_until",
    "raise_alert",
    "reject",
    "retract",
    "retry",
    "run_cycle",
    "run_round",
]
