"""Delivery commands: ``pusher verify [--target T] [--deep] [--no-repair]`` re-reads the headends
and repairs what differs; ``pusher retract ID --reason TEXT`` takes an item off the channel and
pushes the channel at once, recorded in the audit log.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from pusher import ops
from pusher.cli import ConfigOpt, JsonOpt, app, load, out
from pusher.runtime import Runtime
from pusher.stages.outbox import DeliveryReport, verify

TargetOpt = Annotated[str | None, typer.Option("--target", "-t", help="Only this target.", show_default=False)]


def _runtime(config: Path | None) -> Runtime:
    from pusher.daemon.channels import open_runtime

    return open_runtime(load(config))


def delivery_line(r: DeliveryReport) -> str:
    if r.status == "done":
        return f"{r.target}：已送达版本 {r.version}（{r.files} 个文件，{r.bytes} 字节，删除过期 {r.deleted} 个）"
    if r.status == "failed":
        return f"{r.target}：推送失败：{r.error}"
    if r.status == "busy":
        return f"{r.target}：另一进程正在推送（{r.error}）"
    return f"{r.target}：已是最新"


@app.command("verify")
def verify_cmd(
    target: TargetOpt = None,
    deep: Annotated[bool, typer.Option("--deep", help="Read every referenced asset back and check its sha256.")] = False,
    repair: Annotated[bool, typer.Option("--repair/--no-repair", help="Re-deliver what is missing or wrong (default).")] = True,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-read the headends: are the manifest and every asset it references there and intact? Repair differences."""
    rt = _runtime(config)
    try:
        names = [rt.settings.target(target).name] if target else [t.name for t in rt.settings.targets if t.enabled]
        reports = [verify(rt, n, deep=deep, repair=repair) for n in names]
    finally:
        rt.close()
    if as_json:
        out.print(json.dumps([{**asdict(r), "ok": r.ok} for r in reports], ensure_ascii=False, indent=2), markup=False)
    for r in reports if not as_json else ():
        state = "正常" if r.ok else "有差异"
        out.print(
            f"{r.target}：版本 {r.version or '—'}，核对 {r.checked} 个文件：缺失 {len(r.missing)}，损坏 {len(r.corrupt)}，"
            f"清单{'一致' if r.manifest_ok else '不一致'}；{state}",
            markup=False,
        )
        for name in r.missing[:10]:
            out.print(f"  缺失 {name}", markup=False)
        for name in r.corrupt[:10]:
            out.print(f"  损坏 {name}", markup=False)
        if r.repaired is not None:
            out.print("  修复：" + delivery_line(r.repaired), markup=False)
    if any(not r.ok and (r.repaired is None or r.repaired.status != "done") for r in reports):
        raise typer.Exit(1)


@app.command("retract")
def retract_cmd(
    item_id: Annotated[int, typer.Argument(help="Item id.", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required; kept in the audit log).", show_default=False)] = "",
    config: ConfigOpt = None,
) -> None:
    """Take an item off the channel and push the channel to every target now."""
    rt = _runtime(config)
    try:
        item = ops.retract(rt, item_id, reason)
        out.print(f"已撤下：#{item.id} {item.title}", markup=False)
        rnd = ops.run_round(rt, steps=ops.PUBLISH_AND_DELIVER, now_only_due=False)
        out.print(f"频道版本 {rnd.version.version}" if rnd.version else "频道未变（该条目不在播出中）", markup=False)
    finally:
        rt.close()
    for r in rnd.deliveries:
        out.print(delivery_line(r), markup=False)
    if any(r.status in ("failed", "busy") for r in rnd.deliveries):
        raise typer.Exit(1)
