"""The item state machine: one function changes states, and the code keeps to the table.

``set_state`` checks every change against ``TRANSITIONS``. These tests make sure nothing else
assigns an item's state (a static check of the source), and walk the transitions the code
makes in a realistic run — poll, gate, review, render, publish, a portal edit, a withdrawal, a
retraction, the budget — recording each and checking it against the table.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from pusher import ops
from pusher.ops import run_cycle
from pusher.runtime import Runtime
from pusher.states import TRANSITIONS, ItemState, TransitionError, observed, set_state
from pusher.store.models import Item

ROOT = Path(__file__).resolve().parents[2]
S = ItemState


def _assigns_item_state(node: ast.AST) -> bool:
    """An assignment to ``<x>.state`` (alone or in a tuple) whose value is not a delivery state."""
    if not isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    flat: list[ast.expr] = []
    for t in targets:
        flat += t.elts if isinstance(t, ast.Tuple) else [t]
    if not any(isinstance(t, ast.Attribute) and t.attr == "state" for t in flat):
        return False
    return "DeliveryState" not in ast.unparse(node.value) if node.value is not None else True


def test_nothing_but_set_state_assigns_an_item_state() -> None:
    offenders = []
    for path in sorted([*ROOT.glob("pusher/**/*.py"), *ROOT.glob("feeds/**/*.py"), *ROOT.glob("renderers/**/*.py")]):
        if path.name == "states.py" or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if _assigns_item_state(node):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            # Bulk UPDATEs would skip the check (and the per-item log line) as well.
            bulk = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values"
            if bulk and any(k.arg == "state" and "ItemState" in ast.unparse(k.value) for k in node.keywords):  # type: ignore[attr-defined]
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} (bulk update)")
    assert not offenders, "item states set outside pusher.states.set_state: " + ", ".join(offenders)


def test_set_state_refuses_a_move_the_table_forbids() -> None:
    item = Item(source="s", url="u", title="t", state=S.WITHDRAWN)
    with pytest.raises(TransitionError, match="withdrawn to published"):
        set_state(item, S.PUBLISHED)
    assert item.state == S.WITHDRAWN
    before = datetime(2026, 1, 1, tzinfo=UTC)
    was = set_state(item, S.NEW, "changed on the portal", now=before)
    assert (was, item.state, item.state_reason, item.updated_at) == (S.WITHDRAWN, S.NEW, "changed on the portal", before)


def _by_url(rt: Runtime, tail: str) -> Item:
    with rt.store.read() as db:
        return db.exec(select(Item).where(Item.url.endswith(tail))).one()  # type: ignore[attr-defined]


def test_the_transitions_the_code_makes_are_in_the_table(demo_rt: Runtime, portal_dir: Path) -> None:
    with observed() as seen:
        run_cycle(demo_rt)  # new → screened/held → rendered → published
        [held] = [i for i in _items(demo_rt) if i.state == S.HELD]
        ops.approve(demo_rt, held.id or 0, "已核实", mask=True)  # held → screened
        # A portal edit (→ new), a withdrawal from the portal (published → withdrawn).
        art = portal_dir / "art/2026/11/20/art_1001_5101.html"
        art.write_text(art.read_text(encoding="utf-8").replace("保护森林资源", "保护森林资源和生态环境"), encoding="utf-8")
        listing = portal_dir / "col/col1001/index.html"
        listing.write_text(listing.read_text(encoding="utf-8").replace("2026-11-20", "2026-11-21"), encoding="utf-8")
        (portal_dir / "art/2026/11/18/art_1001_5102.html").unlink()
        run_cycle(demo_rt)
        ops.retract(demo_rt, _by_url(demo_rt, "art_1001_5103.html").id or 0, "内容有误")  # published → withdrawn
        ops.run_round(demo_rt, steps=ops.PUBLISH_AND_DELIVER)
    for old, new in seen:
        assert new == old or new in TRANSITIONS[old], f"{old} → {new} is not in the table"
    expected = {
        (S.NEW, S.SCREENED), (S.NEW, S.HELD), (S.HELD, S.SCREENED), (S.SCREENED, S.RENDERED),
        (S.RENDERED, S.PUBLISHED), (S.PUBLISHED, S.NEW), (S.PUBLISHED, S.WITHDRAWN),
    }  # fmt: skip
    assert expected <= seen, f"not walked: {sorted(expected - seen)}"


def test_an_expired_item_can_be_retracted(demo_rt: Runtime) -> None:
    run_cycle(demo_rt)
    item = _by_url(demo_rt, "art_1001_5104.html")
    with demo_rt.store.write() as db:
        row = db.get(Item, item.id)
        assert row is not None
        set_state(row, S.EXPIRED, "budget")
    with observed() as seen:
        ops.retract(demo_rt, item.id or 0, "过期信息撤下")
    assert seen == {(S.EXPIRED, S.WITHDRAWN)}


def _items(rt: Runtime) -> list[Item]:
    with rt.store.read() as db:
        return list(db.exec(select(Item)))
