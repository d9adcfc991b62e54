"""Screen new items through the sensitive-information gate, and screen what is on air again
when the gate or an item's attachments change.

PASS and MASK go on (SCREENED, with the document as it may air); HOLD waits for an operator
(``pusher review``); BLOCK is final until the item changes on the portal.

Re-screening (:func:`rescreen_on_air`, run at the start of every screening round): when the
gate's fingerprint changes — its configuration (policy, allowlist, content registry), its
keyword lists, its shipped lists or its code — every item on air is screened again; an item
with attachments is also re-fetched every ``recheck`` of its source, and screened again when
their bytes changed. An item that now holds or blocks leaves the channel at this round (HELD or
REJECTED, audited ``gate.rescreen``), unless an operator approved this version with the same
findings; one whose masking changed goes back to be drawn masked. The fingerprint and the
attachments' digests are kept in ``gate-state.json`` in the workdir.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from pusher.errors import GateError
from pusher.gate import screen_with_attachments
from pusher.gate.attachment_body import HEADING, with_attachment_body
from pusher.gate.settings import GateSettings
from pusher.interfaces import Action, Document, Screening
from pusher.runtime import Runtime
from pusher.states import ON_AIR, ItemState, set_state
from pusher.store import changes
from pusher.store.codec import blocks_to_json, document_of
from pusher.store.models import Audit, AuditAction, Item

log = logging.getLogger("tvpusher.screen")

NEXT_STATE = {
    Action.PASS: ItemState.SCREENED,
    Action.MASK: ItemState.SCREENED,
    Action.HOLD: ItemState.HELD,
    Action.BLOCK: ItemState.REJECTED,
}


def findings_json(screening: Screening) -> str:
    return json.dumps(
        [
            {"detector": f.detector, "start": f.start, "end": f.end, "text": f.text, "action": f.action.value}
            # What the reviewer is told (check digit wrong…) and where (an attachment's name).
            | {k: v for k in ("note", "source") if (v := getattr(f, k, ""))}
            for f in screening.findings
        ],
        ensure_ascii=False,
    )


def fetch_attachments(rt: Runtime, source: str, doc: Document) -> list[tuple[str, bytes | str]]:
    """Each attachment's bytes (within ``http.max_bytes``), or the error that kept them away:
    an attachment that cannot be fetched is a finding, never a pass."""
    if not doc.attachments:
        return []
    try:
        http = rt.http(rt.settings.source(source))
    except Exception as exc:  # the source left the configuration: its attachments cannot be had
        return [(a.name or a.url, f"cannot fetch: {exc}") for a in doc.attachments]
    files: list[tuple[str, bytes | str]] = []
    for a in doc.attachments:
        try:
            got = http.get(a.url)
            files.append((a.name or a.url, got.body if got.status == 200 else f"HTTP {got.status}"))
        except Exception as exc:
            files.append((a.name or a.url, f"cannot fetch: {exc}"))
    return files


#: Items one call screens at most (a round calls it until fewer come back).
SCREEN_CALL = 500

#: Verdicts written to the store in one transaction: a transaction an item was a third of a
#: year's screening (issue 19); a crash loses at most this many verdicts (the items stay NEW
#: and are screened again).
SCREEN_BATCH = 64


@dataclass
class _Verdict:
    item_id: int
    version: int
    doc: Document  # as polled
    full: Document  # as screened (the attachment's text as body, for a page that only points at it)
    files: list[tuple[str, bytes | str]]
    screening: Screening


def new_waiting(rt: Runtime) -> bool:
    """Whether any item waits to be screened (one index probe: the render worker asks it every
    few seconds)."""
    with rt.store.read() as db:
        return db.exec(select(Item.id).where(col(Item.state) == ItemState.NEW).limit(1)).first() is not None


def screen_items(rt: Runtime, limit: int = SCREEN_CALL) -> int:
    """Screen NEW items (after taking off the air what a changed gate or attachment now fails)."""
    try:
        rescreen_on_air(rt)
    except Exception:  # re-screening must not stop new items from being screened
        log.exception("re-screening items on air failed")
    with rt.store.read() as db:
        work = [
            (i.id, i.version, document_of(i), i.source)
            for i in db.exec(select(Item).where(col(Item.state) == ItemState.NEW).order_by(col(Item.id)).limit(limit))
        ]
    done = 0
    verdicts: list[_Verdict] = []
    for item_id, version, doc, source in work:
        if rt.stopping.is_set():
            break
        if item_id is None:
            continue
        try:
            files = fetch_attachments(rt, source, doc)
            # A page that only says 详见附件 airs its attachment's text, screened as body.
            full = with_attachment_body(doc, files)
            verdict = screen_with_attachments(rt.gate, full, files)
        except GateError as exc:
            log.error("gate failed for item %s: %s", item_id, exc)
            continue
        except Exception:  # a gate bug this item trips: it stays NEW (off the air), the others go on
            log.exception("gate crashed on item %s", item_id)
            continue
        verdicts.append(_Verdict(item_id, version, doc, full, files, verdict))
        if len(verdicts) >= SCREEN_BATCH:
            done += _store_verdicts(rt, verdicts)
            verdicts = []
    return done + _store_verdicts(rt, verdicts)


def _store_verdicts(rt: Runtime, verdicts: Sequence[_Verdict]) -> int:
    """The verdicts in one transaction; an item changed meanwhile is left for the next round."""
    if not verdicts:
        return 0
    stored: list[_Verdict] = []
    with rt.store.write() as db:
        items = {it.id: it for it in db.exec(select(Item).where(col(Item.id).in_([v.item_id for v in verdicts])))}
        for v in verdicts:
            item = items.get(v.item_id)
            if item is None or item.version != v.version or item.state != ItemState.NEW:
                continue  # changed meanwhile: the next round screens the new version
            new = NEXT_STATE[v.screening.action]
            findings = f" ({len(v.screening.findings)} findings)" if v.screening.findings else ""
            set_state(item, new, f"gate: {v.screening.action.value}{findings}")
            if v.full is not v.doc:  # the item's body is now the page's pointer plus the attachment (content_hash stays the page's)
                item.body, item.text = blocks_to_json(v.full.blocks), v.full.text
            item.screened_title = v.screening.document.title
            item.screened_body = blocks_to_json(v.screening.document.blocks)
            item.findings = findings_json(v.screening)
            stored.append(v)
    for v in stored:
        state = NEXT_STATE[v.screening.action].value
        log.info("item %s screened: %s", v.item_id, state, extra={"item": v.item_id, "state": state})
        if v.files:
            _remember_attachments(rt, v.item_id, v.version, v.files)
    return len(stored)


# ------------------------------------------------------------------ re-screening ----

STATE_FILE = "gate-state.json"
_GATE_CODE = Path(__file__).resolve().parents[1] / "gate"


def gate_fingerprint(settings: GateSettings) -> str:
    """What the gate's verdicts depend on: its settings, its keyword lists' bytes, its shipped
    lists and its code. A change of any of them means what is on air was judged by another gate."""
    h = hashlib.sha256(settings.model_dump_json().encode())
    files: list[Path] = []
    for src in settings.keyword_files:
        files += sorted(src.rglob("*.txt")) if src.is_dir() else [src]
    files += sorted(p for p in _GATE_CODE.rglob("*") if p.is_file() and p.suffix in (".py", ".txt"))
    for f in files:
        h.update(str(f).encode())
        try:
            h.update(f.read_bytes())
        except OSError as exc:  # the gate itself fails closed on an unreadable list; the fingerprint just changes
            h.update(repr(exc).encode())
    return h.hexdigest()


def _state_path(rt: Runtime) -> Path:
    return rt.settings.channel.workdir / STATE_FILE


def _load_state(rt: Runtime) -> dict[str, object]:
    try:
        got = json.loads(_state_path(rt).read_text("utf-8"))
        return got if isinstance(got, dict) else {}
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: everything on air is screened again, which is safe


def _save_state(rt: Runtime, state: dict[str, object]) -> None:
    path = _state_path(rt)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, sort_keys=True), "utf-8")
    os.replace(tmp, path)


def _digest(files: Iterable[tuple[str, bytes | str]]) -> str:
    h = hashlib.sha256()
    for name, data in files:
        h.update(name.encode() + b"\0" + (data if isinstance(data, bytes) else b"error:" + data.encode()) + b"\0")
    return h.hexdigest()


def _attachments_state(state: dict[str, object]) -> dict[str, dict[str, object]]:
    got = state.setdefault("attachments", {})
    return got if isinstance(got, dict) else {}


def _remember_attachments(rt: Runtime, item_id: int, version: int, files: Sequence[tuple[str, bytes | str]]) -> None:
    state = _load_state(rt)
    _attachments_state(state)[str(item_id)] = {"digest": _digest(files), "version": version, "checked": datetime.now(UTC).isoformat()}
    _save_state(rt, state)


def _keys(findings: Iterable[dict[str, object]]) -> set[tuple[object, object, object]]:
    return {(f.get("detector"), f.get("text"), f.get("source", "")) for f in findings}


_APPROVALS = (AuditAction.APPROVE_MASKED, AuditAction.APPROVE_AS_IS)


def _approved(rt: Runtime, item_id: int, version: int) -> str:
    """The review action that let this version of the item on air, or ``""``."""
    with rt.store.read() as db:
        rows = db.exec(
            select(Audit).where(
                col(Audit.item_id) == item_id, col(Audit.action).in_([AuditAction.APPROVE_MASKED, AuditAction.APPROVE_AS_IS])
            )
        ).all()
    return next((r.action for r in reversed(rows) if r.detail == f"version {version}"), "")


def _without_attachment_body(doc: Document) -> Document:
    """The page's own blocks: an attachment's text appended at screening is read again from the new bytes."""
    for i, b in enumerate(doc.blocks):
        if b.kind == "h" and b.text.startswith(HEADING):
            return replace(doc, blocks=doc.blocks[:i])
    return doc


def _recheck_seconds(rt: Runtime, source: str) -> float:
    try:
        return float(rt.settings.source(source).recheck or 21600)
    except Exception:  # the source left the configuration: its attachments cannot be re-read
        return float("inf")


def _due(rt: Runtime, entry: dict[str, object], version: int, source: str, now: datetime) -> bool:
    """Whether an item's attachments are to be fetched again: a version not fetched yet, or its
    source's ``recheck`` passed since they were."""
    checked = str(entry.get("checked", ""))
    age = (now - datetime.fromisoformat(checked)).total_seconds() if checked else float("inf")
    return entry.get("version") != version or age >= _recheck_seconds(rt, source)


#: Per runtime: the change counter and the items on air with attachments (id, version, source)
#: then. Items, their attachments and their states change only with the counter, so an idle
#: round need not look for them among every item on air again (issue 19: 15,000 rows a round).
_attached: weakref.WeakKeyDictionary[Runtime, tuple[int, list[tuple[int, int, str]]]] = weakref.WeakKeyDictionary()


def _with_attachments(rt: Runtime, db: Session) -> list[tuple[int, int, str]]:
    n = changes.count(db)  # first: a write after it moves the counter for the next round
    got = _attached.get(rt)
    if got is not None and got[0] == n:
        return got[1]
    q = select(Item.id, Item.version, Item.source).where(col(Item.state).in_(list(ON_AIR)), col(Item.attachments).not_in(["[]", ""]))
    rows = [(i, v, s) for i, v, s in db.exec(q) if i is not None]
    _attached[rt] = (n, rows)
    return rows


def rescreen_on_air(rt: Runtime, *, now: datetime | None = None) -> int:
    """Screen items on air again where the gate or their attachments changed; take off the air
    (HELD / REJECTED, audited) those that now fail. Returns how many items changed state."""
    now = now or datetime.now(UTC)
    state = _load_state(rt)
    loaded = json.dumps(state, sort_keys=True)
    fingerprint = gate_fingerprint(rt.settings.gate)
    gate_changed = state.get("fingerprint") != fingerprint
    seen = _attachments_state(state)
    q = select(Item).where(col(Item.state).in_(list(ON_AIR)))
    with rt.store.read() as db:
        if not gate_changed:
            # Only items with attachments can be due, and of those only the ones whose version is
            # new here or whose recheck has come: an idle round decodes no item at all.
            due_ids = [i for i, version, source in _with_attachments(rt, db) if _due(rt, seen.get(str(i), {}), version, source, now)]
            q = q.where(col(Item.id).in_(due_ids))
        rows = [(i.id, i.version, document_of(i), i.source, i.findings, i.screened_body) for i in db.exec(q.order_by(col(Item.id)))]
    changed = 0
    for item_id, version, stored, source, old_findings, old_screened in rows:
        if rt.stopping.is_set():
            break
        assert item_id is not None
        entry = seen.get(str(item_id), {})
        due = bool(stored.attachments) and _due(rt, entry, version, source, now)
        if not gate_changed and not due:
            continue
        files = fetch_attachments(rt, source, stored) if stored.attachments else []
        digest = _digest(files)
        files_changed = entry.get("version") == version and entry.get("digest") not in (None, digest)
        if files:
            seen[str(item_id)] = {"digest": digest, "version": version, "checked": now.isoformat()}
        if not gate_changed and not files_changed:
            continue
        try:
            full = with_attachment_body(_without_attachment_body(stored), files) if files_changed else stored
            verdict = screen_with_attachments(rt.gate, full, files)
        except Exception:  # the old verdict stands until the gate can judge it
            log.exception("re-screening item %s failed", item_id)
            continue
        changed += _apply_rescreen(rt, item_id, version, full if files_changed else None, verdict, old_findings, old_screened)
    state["fingerprint"] = fingerprint
    if json.dumps(state, sort_keys=True) != loaded:  # an idle round writes nothing
        _save_state(rt, state)
    return changed


def _apply_rescreen(
    rt: Runtime, item_id: int, version: int, body: Document | None, verdict: Screening, old_findings: str, old_screened: str
) -> int:
    new_json = findings_json(verdict)
    new_keys, old_keys = _keys(json.loads(new_json)), _keys(json.loads(old_findings or "[]"))
    approval = _approved(rt, item_id, version)
    screened_body = blocks_to_json(verdict.document.blocks)
    if approval and new_keys <= old_keys:
        return 0  # an operator let exactly these findings on air
    if verdict.action in (Action.PASS, Action.MASK) and (screened_body == old_screened or approval == AuditAction.APPROVE_AS_IS):
        return 0
    why = "gate or attachments changed"
    with rt.store.write() as db:
        item = db.get(Item, item_id)
        if item is None or item.version != version or item.state not in ON_AIR:
            return 0  # changed meanwhile: its own screening decides
        if verdict.action in (Action.HOLD, Action.BLOCK):
            new = NEXT_STATE[verdict.action]
            set_state(item, ItemState.NEW, f"re-screen: {why}")
            set_state(item, new, f"gate (re-screen): {verdict.action.value} ({len(verdict.findings)} findings)")
        else:
            new = ItemState.SCREENED  # drawn again with the new masking
            set_state(item, new, f"gate (re-screen): {verdict.action.value}, masking changed")
        if body is not None:
            item.body, item.text = blocks_to_json(body.blocks), body.text
        item.screened_title = verdict.document.title
        item.screened_body = screened_body
        item.findings = new_json
        db.add(item)
        rt.store.audit(db, AuditAction.GATE_RESCREEN, item_id=item_id, reason=why, detail=f"version {version}: {new.value}")
    log.warning("item %s on air re-screened: %s", item_id, new.value, extra={"item": item_id, "state": new.value})
    return 1
