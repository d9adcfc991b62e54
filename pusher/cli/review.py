"""Review commands: held items wait here for an operator, and ``scan`` tries the gate on a text.

``pusher review list | show ID | approve ID [--mask|--as-is] --reason T | reject ID --reason T``
and ``pusher scan --text-file F [--json]``. Every decision is written to the audit log with the
OS user, the time and the reason.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text
from sqlmodel import select

from pusher import ops
from pusher.cli import ConfigOpt, JsonOpt, app, load, out
from pusher.errors import TvPusherError
from pusher.gate import GateSettings, build_gate, screened_text
from pusher.states import ItemState
from pusher.store.models import Item

if TYPE_CHECKING:
    from pusher.runtime import Runtime

review_app = typer.Typer(help="Review items the sensitive-information gate held.", no_args_is_help=True)
app.add_typer(review_app, name="review")

# Required, but checked by the command so that a missing reason is one clear line, not a usage dump.
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="Why (required; kept in the audit log).", show_default=False)]
ItemArg = Annotated[int, typer.Argument(help="Item id (from `pusher review list`).", show_default=False)]
# The rule words stay beside the Chinese: they are what the operator writes in [gate.policy].
ACTION_SAID = {"block": "拦截", "hold": "暂扣", "mask": "遮盖", "mask+hold": "遮盖并暂扣", "pass": "仅报告"}
STYLE = {"block": "bold white on red", "hold": "bold black on yellow", "mask": "black on cyan", "pass": "underline"}


def _runtime(config: Path | None) -> Runtime:
    from pusher.daemon.channels import open_runtime

    return open_runtime(load(config))


def _print_json(data: Any) -> None:
    out.print(json.dumps(data, ensure_ascii=False, indent=2), markup=False, highlight=False)


def _findings(item: Item) -> list[dict[str, Any]]:
    return list(json.loads(item.findings or "[]"))


@review_app.command("list")
def review_list(
    config: ConfigOpt = None,
    state: Annotated[str, typer.Option(help="held, rejected (the gate blocked) or failed (could not be drawn, with why).")] = "held",
    as_json: JsonOpt = False,
) -> None:
    """Items waiting for review (or rejected ones), with what the gate found."""
    try:
        want = ItemState(state)
    except ValueError:
        raise typer.BadParameter(f"unknown state {state!r}", param_hint="--state") from None
    rt = _runtime(config)
    try:
        with rt.store.read() as db:
            items = list(db.exec(select(Item).where(Item.state == want).order_by(Item.id)))  # type: ignore[arg-type]
    finally:
        rt.close()
    rows: list[dict[str, Any]] = []
    for it in items:
        counts = Counter(f["detector"] for f in _findings(it))
        rows.append({"id": it.id, "title": it.title, "source": it.source, "reason": it.state_reason, "findings": dict(counts)})
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("没有待审核的信息" if want == ItemState.HELD else "（无）")
        return
    for r in rows:
        found = "、".join(f"{k}×{v}" for k, v in sorted(r["findings"].items())) or "-"
        why = f"  原因：{r['reason']}" if want != ItemState.HELD and r["reason"] else ""
        out.print(f"{r['id']:>6}  {r['title']}  [{r['source']}]  {found}{why}", markup=False)


@review_app.command("show")
def review_show(item_id: ItemArg, config: ConfigOpt = None) -> None:
    """An item's text with the findings highlighted, and how it would air if approved masked."""
    from pusher.store.codec import document_of

    rt = _runtime(config)
    try:
        with rt.store.read() as db:
            item = db.get(Item, item_id)
    finally:
        rt.close()
    if item is None:
        raise TvPusherError(f"no item {item_id}")
    findings = _findings(item)
    out.print(f"#{item.id}  {item.state.value}  {item.state_reason}", markup=False)
    out.print(item.url, markup=False)
    text = Text(screened_text(document_of(item)))
    for f in findings:
        if not f.get("source"):  # an attachment finding's offsets are into the attachment's text
            text.stylize(STYLE.get(f["action"], "reverse"), f["start"], f["end"])
    out.print(text)
    out.print()
    for f in findings:
        where = f"附件：{f['source']}" if f.get("source") else f"{f['start']:>6}–{f['end']:<6}"
        note = f"  （{f['note']}）" if f.get("note") else ""
        out.print(f"  {f['detector']:<15} {f['action']:<6} {where} {f['text']}{note}", markup=False)
    if item.screened_body and item.screened_body != item.body:
        out.print("\n审核通过（--mask）后播出：", markup=False)
        out.print(screened_text(document_of(item, screened=True)), markup=False)


def _decide(config: Path | None, decide: Callable[[Runtime], Item]) -> Item:
    rt = _runtime(config)
    try:
        return decide(rt)
    finally:
        rt.close()


@review_app.command("approve")
def review_approve(
    item_id: ItemArg,
    reason: ReasonOpt = "",
    config: ConfigOpt = None,
    mask: Annotated[bool, typer.Option("--mask/--as-is", help="Air the masked text (default) or the original.")] = True,
) -> None:
    """Let a held item go on air, masked (default) or as published on the portal."""
    item = _decide(config, lambda rt: ops.approve(rt, item_id, reason, mask=mask))
    out.print(f"已通过：#{item.id} {item.title}（{'脱敏播出' if mask else '原文播出'}）", markup=False)


@review_app.command("reject")
def review_reject(item_id: ItemArg, reason: ReasonOpt = "", config: ConfigOpt = None) -> None:
    """Keep a held item off the air for good (until the portal changes it)."""
    item = _decide(config, lambda rt: ops.reject(rt, item_id, reason))
    out.print(f"已驳回：#{item.id} {item.title}", markup=False)


def _policy_help() -> str:
    from pusher.gate import DEFAULT_POLICY, DETECTORS

    rows = [f"  {e.kind:<15} {DEFAULT_POLICY[e.kind]:<10} {e.summary}" for e in DETECTORS]
    rules = "Rules: off, pass (report only), mask, hold, mask+hold, block; set them in [gate.policy]."
    return "\b\nDetectors and their default rule:\n" + "\n".join(rows) + "\n\n" + rules


@app.command("scan", epilog=_policy_help())
def scan(
    text_file: Annotated[Path, typer.Option("--text-file", "-f", help="UTF-8 text to screen (- for stdin).", show_default=False)],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Screen a text with the gate (nothing is stored) and print the findings."""
    import sys

    settings = load(config).gate if config else GateSettings()
    try:
        text = sys.stdin.read() if str(text_file) == "-" else text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TvPusherError(f"无法读取 {text_file}：{exc}") from exc
    gate = build_gate(settings)
    findings = gate.scan(text)
    if as_json:
        data = [{"detector": f.detector, "start": f.start, "end": f.end, "text": f.text, "action": f.action.value} for f in findings]
        _print_json(data)
        return
    for f in findings:
        out.print(f"{f.start:>7}–{f.end:<7} {f.detector:<15} {f.action.value:<6} {f.text}", markup=False)
    actions = Counter(f.action.value for f in findings)
    said = "，".join(f"{ACTION_SAID.get(k, k)}（{k}）{v} 处" for k, v in sorted(actions.items()))
    out.print(f"发现 {len(findings)} 处" + (f"：{said}" if findings else "（未发现敏感信息）"), markup=False)
