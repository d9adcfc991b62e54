"""kill -9 in the middle of a push, at many points, to a folder and to nginx over WebDAV.

A channel version 1 is on the headend and version 2 (two items changed, one removed, five new;
grace period zero so that deletions are among the kill points) is being pushed by a separate
process that kills itself with SIGKILL at the Nth instrumented point (``crash_push.py``). After
each kill the headend must show a manifest whose every asset is complete with the stated
sha256, and no file under ``assets/`` may differ from its hash name; then a restarted delivery
must complete version 2.

The folder is also cut from power at each point (``crash_push.py`` keeps a journal of what was
synced and renamed): what the disk could lose is taken back before the checks — at one point
the renames not yet synced survive while unsynced data is lost, at the next they are lost too —
with
``precheck = false`` so that the restart trusts what the store recorded, as the folder target
syncs a batch of pages once instead of each page (issue 19).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from crash_push import apply_power_cut
from sqlmodel import select
from targetkit import PASSWORD, USER, Channel, Nginx, check_headend, folder_assets, folder_reader, page_bytes

from pusher.config.settings import load_settings
from pusher.runtime import Runtime
from pusher.stages.outbox import deliver
from pusher.store.models import Delivery

HELPER = Path(__file__).with_name("crash_push.py")
ROOT = Path(__file__).resolve().parents[2]


def _config(folder: Path, target: str) -> Path:
    path = folder / "tvpusher.toml"
    path.write_text(f'[channel]\nworkdir = "work"\nprofile = "sd"\n\n[[targets]]\nname = "h"\n{target}\n', encoding="utf-8")
    return path


def _template(folder: Path, target: str, headend: Path) -> Path:
    """Version 1 delivered, version 2 waiting; the runtime is closed so the files can be copied."""
    config = _config(folder, target)
    rt = Runtime(load_settings(config))
    try:
        ch = Channel(rt)
        for i in range(5):
            ch.set(f"i{i}", page_bytes(f"i{i}a", 9000), page_bytes(f"i{i}b", 7000))
        ch.publish()
        [r] = deliver(rt)
        assert r.status == "done", r.error
        ch.set("i0", page_bytes("i0a-v2", 9000), page_bytes("i0b", 7000))
        ch.set("i1", page_bytes("i1a-v2", 11000))
        del ch.items["i2"]
        ch.set("i5", page_bytes("i5a", 8000), page_bytes("i5b", 12000))
        ch.set("i6", page_bytes("i6a", 10000))
        # Enough new pages that a batched sync still leaves many points to kill at.
        for i in (7, 8, 9):
            ch.set(f"i{i}", page_bytes(f"i{i}a", 6000 + i * 100), page_bytes(f"i{i}b", 5000 + i * 100))
        ch.publish()
    finally:
        rt.close()
    shutil.copytree(headend, folder / "headend-template")
    return config


class Pusher:
    """``crash_push.py --serve``: forks one fresh push process per request."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HELPER), "--serve"], cwd=ROOT, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip

    def run(self, config: Path, kill_at: int, trace: Path, power: Path | None = None) -> int:
        """Exit code of one push (negative: killed by that signal); with ``power``, the journal
        of what a power cut at the kill would take back is written there."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{config}\t{kill_at}\t{trace}" + (f"\t{power}" if power else "") + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture
def pusher() -> Iterator[Pusher]:
    p = Pusher()
    yield p
    p.close()


def _restore(src: Path, dst: Path) -> None:
    for p in dst.iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    shutil.copytree(src, dst, dirs_exist_ok=True)


def _crash_and_restart(pusher: Pusher, case: Path, headend: Path, reset: Callable[[Path], None], *, power: bool = False) -> None:
    config = case / "tvpusher.toml"
    trace = case / "trace.txt"
    journal = case.with_name("power.json")
    cuts = 0
    assert pusher.run(config, 0, trace) == 0  # a dry run through a copy, to count and name the points
    labels = trace.read_text().splitlines()
    n = len(labels)
    assert n >= 60, f"only {n} instrumented points"
    # Spread over the assets, and over the manifest switch and what follows it (deletions).
    manifest_at = next(i for i, lab in enumerate(labels, 1) if "channel.xml" in lab)
    points = sorted(_spread(1, manifest_at - 1, 14) | _spread(manifest_at - 1, n, 10))
    seen = {"old": 0, "new": 0}
    for kill_at in points:
        reset(case)
        code = pusher.run(config, kill_at, trace, journal if power else None)
        where = trace.read_text().splitlines()[-1]
        assert code == -signal.SIGKILL, f"point {kill_at} ({where}): exit {code}"
        if power:
            survive = kill_at % 2 == 0
            lost = apply_power_cut(str(journal), str(headend), names_survive=survive)
            cuts += bool(lost)
            where += f"; a power cut (names {'survive' if survive else 'lost'}) {', '.join(lost) or 'took nothing back'}"
        try:
            shown = check_headend(folder_reader(headend), folder_assets(headend))
        except AssertionError as exc:
            raise AssertionError(f"after kill -9 at point {kill_at}/{n} ({where}): {exc}") from None
        assert shown in (1, 2), f"after kill -9 at point {kill_at} ({where}): the headend shows version {shown}"
        seen["old" if shown == 1 else "new"] += 1
        rt = Runtime(load_settings(config))
        try:
            [r] = deliver(rt, now_only_due=False)
            assert r.status in ("done", "idle"), f"restart after point {kill_at} ({where}): {r.error}"
            with rt.store.read() as db:
                assert db.exec(select(Delivery.state).where(Delivery.channel_version == 2)).one() == "done"
            assert deliver(rt, now_only_due=False)[0].status == "idle"
        finally:
            rt.close()
        check_headend(folder_reader(headend), folder_assets(headend), version=2)
    assert len(points) >= 20 and seen["old"] >= 5 and seen["new"] >= 5, (len(points), seen)
    assert not power or cuts >= 2, f"the power cut took something back at only {cuts} points"


def _spread(lo: int, hi: int, k: int) -> set[int]:
    return {lo + round(i * (hi - lo) / (k - 1)) for i in range(k)}


def test_kill_9_during_a_push_to_a_folder(tmp_path: Path, pusher: Pusher) -> None:
    base = tmp_path / "base"
    base.mkdir()
    _template(base, 'kind = "folder"\noptions = { path = "drop", grace_hours = 0 }', base / "drop")
    case = tmp_path / "case"

    def reset(case: Path) -> None:
        shutil.rmtree(case, ignore_errors=True)
        shutil.copytree(base, case)

    reset(case)
    _crash_and_restart(pusher, case, case / "drop", reset)


@pytest.mark.parametrize("sync", ["batch", "filesystem", "file"])
def test_power_cut_during_a_push_to_a_folder(tmp_path: Path, pusher: Pusher, sync: str) -> None:
    base = tmp_path / "base"
    base.mkdir()
    options = f'{{ path = "drop", grace_hours = 0, precheck = false, sync = "{sync}" }}'
    _template(base, f'kind = "folder"\noptions = {options}', base / "drop")
    case = tmp_path / "case"

    def reset(case: Path) -> None:
        shutil.rmtree(case, ignore_errors=True)
        shutil.copytree(base, case)

    reset(case)
    _crash_and_restart(pusher, case, case / "drop", reset, power=True)


def test_kill_9_during_a_push_to_nginx(tmp_path: Path, nginx: Nginx, pusher: Pusher) -> None:
    target = f'kind = "webdav"\noptions = {{ url = "{nginx.url}", username = "{USER}", password = "{PASSWORD}", grace_hours = 0 }}'
    base = tmp_path / "base"
    base.mkdir()
    _template(base, target, nginx.root)
    case = tmp_path / "case"

    def reset(case: Path) -> None:
        shutil.rmtree(case, ignore_errors=True)
        shutil.copytree(base, case)
        _restore(base / "headend-template", nginx.root)

    reset(case)
    _crash_and_restart(pusher, case, nginx.root, reset)
