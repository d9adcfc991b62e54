"""The outbox against real headends: delta, grace period, backoff, supersession, leases,
a target that hangs, a store that forgot, a headend that lost files, and ``verify``."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import delete, select
from targetkit import Channel, check_headend, folder_assets, folder_reader, make_runtime, page_bytes, race_two_deliverers

from pusher.runtime import Runtime
from pusher.stages.outbox import BACKOFF_BASE, backoff, deliver, target_status, verify
from pusher.store.models import Delivery, TargetAsset
from pusher.timeutil import utcnow


def folder(tmp_path: Path, name: str = "drop", **options: Any) -> dict[str, Any]:
    return {"name": name, "kind": "folder", "options": {"path": str(tmp_path / name), **options}}


def channel_of(rt: Runtime, n: int = 3) -> Channel:
    ch = Channel(rt)
    for i in range(n):
        ch.set(f"i{i}", page_bytes(f"i{i}a"), page_bytes(f"i{i}b"))
    return ch


def deliveries(rt: Runtime, target: str) -> dict[int, str]:
    with rt.store.read() as db:
        return {d.channel_version: d.state for d in db.exec(select(Delivery).where(Delivery.target == target))}


@pytest.fixture
def rt_factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    made: list[Runtime] = []

    def make(*targets: dict[str, Any]) -> Runtime:
        rt = make_runtime(tmp_path / "work", list(targets))
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


def test_unreferenced_assets_stay_for_the_grace_period(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path, grace_hours=1))
    drop = tmp_path / "drop"
    ch = channel_of(rt)
    ch.publish()
    deliver(rt)
    gone = {f"assets/{p}" for p in _shas(ch.items.pop("i2"))}
    ch.publish()
    [r] = deliver(rt)
    assert r.status == "done" and r.deleted == 0
    assert gone <= set(folder_assets(drop)), "removed before the grace period"
    [st] = target_status(rt)
    assert st.awaiting_deletion == len(gone) + 1  # the item's pages and the old column menu
    with rt.store.write() as db:  # an hour passes
        for a in db.exec(select(TargetAsset).where(TargetAsset.unreferenced_since != None)):  # noqa: E711
            a.unreferenced_since = utcnow() - timedelta(hours=1, minutes=1)
    ch.set("i9", page_bytes("i9"))
    ch.publish()
    [r] = deliver(rt)
    assert r.deleted == len(gone) + 1
    assert not gone & set(folder_assets(drop))
    check_headend(folder_reader(drop), folder_assets(drop), version=3)


def test_backoff_grows_with_jitter_and_is_kept_across_publications(tmp_path: Path, rt_factory: Any) -> None:
    import random

    rng = random.Random(1)
    for n in range(1, 12):
        b = backoff(n, rng)
        cap = min(600, BACKOFF_BASE * 2 ** (n - 1))
        assert cap / 2 <= b <= cap
    rt = rt_factory({"name": "dead", "kind": "webdav", "options": {"url": f"http://127.0.0.1:{_closed_port()}/", "timeout": 1}})
    ch = channel_of(rt)
    ch.publish()
    [r] = deliver(rt)
    assert r.status == "failed" and "ConnectionRefusedError" in r.error
    [r] = deliver(rt)
    assert r.status == "waiting"
    ch.set("i7", page_bytes("i7"))
    ch.publish()
    [r] = deliver(rt)
    assert r.status == "waiting", "a new publication reset the backoff of a failing headend"
    [st] = target_status(rt)
    assert (st.pending_version, st.attempts, st.versions_behind) == (2, 1, 2)
    assert st.next_attempt_at is not None and "ConnectionRefusedError" in st.last_error
    [r] = deliver(rt, now_only_due=False)  # an operator's push ignores the backoff
    assert r.status == "failed"
    [st] = target_status(rt)
    assert st.attempts == 2 and st.to_send == 3 * 2 + 1 + 2  # item pages, home and column menus


def test_a_hanging_headend_delays_only_itself(tmp_path: Path, rt_factory: Any) -> None:
    # No clock in the verdict: the headend hangs until the test lets go, and the folder must be
    # on air while it still hangs (a 1.5 s bound failed once on a loaded CI machine).
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()  # accepts connections, never answers
    url = f"http://127.0.0.1:{lsock.getsockname()[1]}/"
    rt = rt_factory({"name": "hang", "kind": "webdav", "options": {"url": url, "timeout": 60, "deadline": 60}}, folder(tmp_path))
    channel_of(rt).publish()
    reports: dict[str, Any] = {}
    run = threading.Thread(target=lambda: reports.update({r.target: r for r in deliver(rt)}))
    run.start()
    manifest = tmp_path / "drop" / "channel.xml"
    until = time.monotonic() + 30
    while not manifest.exists() and time.monotonic() < until:
        time.sleep(0.02)
    still_hanging = run.is_alive()
    lsock.close()  # the connection waiting in its backlog is reset: the hanging delivery fails
    run.join(30)
    assert manifest.exists() and still_hanging, "the folder waited for the hanging headend"
    assert not run.is_alive(), "the hanging delivery did not end when its headend went away"
    assert reports["drop"].status == "done" and reports["hang"].status == "failed"


def test_newer_publication_supersedes_a_waiting_one(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path))
    ch = channel_of(rt)
    ch.publish()
    ch.set("i5", page_bytes("i5"))
    ch.publish()
    [r] = deliver(rt)
    assert (r.status, r.version) == ("done", 2)
    assert deliveries(rt, "drop") == {1: "superseded", 2: "done"}
    [r] = deliver(rt)
    assert r.status == "idle"


def test_a_live_lease_makes_others_wait_and_a_dead_one_is_taken_over(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path))
    channel_of(rt).publish()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        holder = f"{socket.gethostname()}:{sleeper.pid}"
        _lease(rt, holder)
        [r] = deliver(rt, now_only_due=False)
        assert r.status == "busy" and holder in r.error
        [st] = target_status(rt)
        assert st.busy_with == holder
    finally:
        sleeper.kill()
        sleeper.wait()
    [r] = deliver(rt, now_only_due=False)  # the holder died: no need to wait for its lease to run out
    assert r.status == "done"


def test_a_store_that_forgot_adopts_what_the_headend_holds(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path))
    ch = channel_of(rt)
    ch.publish()
    deliver(rt)
    with rt.store.write() as db:
        db.exec(delete(TargetAsset))  # type: ignore[call-overload]
    ch.set("i8", page_bytes("i8"))
    ch.publish()
    [r] = deliver(rt)
    assert (r.status, r.files) == ("done", 1 + 1 + 1)  # the new page, the new column menu, the manifest
    with rt.store.read() as db:
        assert len(list(db.exec(select(TargetAsset)))) == len(folder_assets(tmp_path / "drop"))


def test_a_file_lost_on_the_headend_is_sent_again_before_the_manifest(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path))
    drop = tmp_path / "drop"
    ch = channel_of(rt)
    ch.publish()
    deliver(rt)
    lost = folder_assets(drop)[0]
    (drop / lost).unlink()
    ch.set("i8", page_bytes("i8"))
    ch.publish()
    [r] = deliver(rt)
    assert r.status == "done" and (drop / lost).exists()
    check_headend(folder_reader(drop), folder_assets(drop), version=2)


def test_a_missing_local_asset_fails_before_the_manifest(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path))
    ch = channel_of(rt)
    ch.publish()
    deliver(rt)
    ch.set("i8", page_bytes("i8"))
    cv = ch.publish()
    sha = _shas([page_bytes("i8")])[0].removesuffix(".png")
    rt.assets.path(sha).unlink()
    [r] = deliver(rt)
    assert r.status == "failed" and "missing from the local asset store" in r.error
    check_headend(folder_reader(tmp_path / "drop"), folder_assets(tmp_path / "drop"), version=cv.version - 1)


def test_verify_finds_and_repairs_missing_and_corrupt_files(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path))
    drop = tmp_path / "drop"
    channel_of(rt).publish()
    deliver(rt)
    healthy = verify(rt, "drop", deep=True)
    assert healthy.ok and healthy.repaired is None and healthy.checked == 8
    names = folder_assets(drop)
    (drop / names[0]).unlink()
    corrupt = drop / names[1]
    corrupt.write_bytes(bytes(b ^ 1 for b in corrupt.read_bytes()))  # same size, other bytes
    (drop / "channel.xml").write_bytes(b"<broken")
    rep = verify(rt, "drop", deep=True)
    assert rep.missing == [names[0]] and rep.corrupt == [names[1]] and not rep.manifest_ok
    assert rep.repaired is not None and rep.repaired.status == "done" and rep.repaired.files == 3
    check_headend(folder_reader(drop), folder_assets(drop), version=1)
    assert verify(rt, "drop", deep=True).ok


def test_verify_without_deep_trusts_sizes_and_leaves_alone_with_no_repair(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path))
    drop = tmp_path / "drop"
    channel_of(rt).publish()
    deliver(rt)
    (drop / folder_assets(drop)[0]).unlink()
    rep = verify(rt, "drop", repair=False)
    assert len(rep.missing) == 1 and rep.repaired is None
    assert len(folder_assets(drop)) == 7
    [st] = target_status(rt)
    assert st.held == 7  # the store now knows the file is gone


# -- helpers -------------------------------------------------------------------------------------


def _shas(pages: list[bytes]) -> list[str]:
    import hashlib

    return [f"{hashlib.sha256(p).hexdigest()}.png" for p in pages]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lease(rt: Runtime, holder: str) -> None:
    with rt.store.write() as db:
        d = db.exec(select(Delivery)).first()
        assert d is not None
        d.claimed_by, d.claimed_until = holder, utcnow() + timedelta(minutes=5)


def test_without_precheck_a_lost_file_is_left_to_verify(tmp_path: Path, rt_factory: Any) -> None:
    rt = rt_factory(folder(tmp_path, precheck=False))
    drop = tmp_path / "drop"
    ch = channel_of(rt)
    ch.publish()
    deliver(rt)
    lost = folder_assets(drop)[0]
    (drop / lost).unlink()
    ch.set("i8", page_bytes("i8"))
    ch.publish()
    assert deliver(rt)[0].status == "done"
    assert not (drop / lost).exists()  # the store believed it was there: no listing, no resend
    rep = verify(rt, "drop")
    assert rep.missing == [lost] and rep.repaired is not None and (drop / lost).exists()


def test_two_threads_of_one_process_never_push_one_target_at_once(tmp_path: Path, rt_factory: Any) -> None:

    rt = rt_factory(folder(tmp_path))
    results = race_two_deliverers(rt)
    assert sorted(results) in (["busy", "done"], ["done", "idle"]), results
    with rt.store.read() as db:
        [d] = db.exec(select(Delivery)).all()
    assert d.files_sent == 30 + 2 + 1  # sent once: pages, menus, manifest
