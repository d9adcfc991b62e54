"""The FTP target on pyftpdlib (issue 19): one control connection per push, and the temporary
files of killed uploads swept like the folder target's."""

from __future__ import annotations

import ftplib
import os
import time
from pathlib import Path
from typing import Any

import pytest
from targetkit import PASSWORD, USER, Channel, Ftp, check_headend, make_runtime, page_bytes

from pusher.registry import TARGETS
from pusher.stages.outbox import deliver
from pusher.targets.ftp import STALE_TMP


def _options(ftp_server: Ftp, **extra: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": ftp_server.port, "username": USER, "password": PASSWORD, **extra}


def test_a_push_logs_in_once(ftp_server: Ftp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logins: list[str] = []
    real_login = ftplib.FTP.login

    def login(self: ftplib.FTP, *args: Any, **kwargs: Any) -> str:
        logins.append("login")
        return real_login(self, *args, **kwargs)

    monkeypatch.setattr(ftplib.FTP, "login", login)
    rt = make_runtime(tmp_path / "work", [{"name": "ftp", "kind": "ftp", "options": _options(ftp_server)}])
    try:
        ch = Channel(rt)
        for i in range(10):
            ch.set(f"i{i}", page_bytes(f"i{i}a", 4000), page_bytes(f"i{i}b", 6000))
        ch.publish()
        [r] = deliver(rt)
        assert r.status == "done", r.error
        assert r.files == 20 + 2 + 1
    finally:
        rt.close()
    assert logins == ["login"], f"{len(logins)} logins for one push"


def test_killed_uploads_leave_no_temporary_files_for_long(ftp_server: Ftp) -> None:
    assets = ftp_server.root / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    stale = assets / f".{'a' * 64}.png.tmp"  # an upload killed two hours ago
    young = assets / f".{'b' * 64}.png.tmp"  # perhaps another process's upload in progress
    foreign = assets / ".notes.txt"  # not a name we write
    for f in (stale, young, foreign):
        f.write_bytes(b"partial")
    old = time.time() - STALE_TMP - 3600
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    t = TARGETS.get("ftp").factory("ftp", TARGETS.validate_options("ftp", _options(ftp_server)))
    try:
        t.put("assets/p.png", b"page")
        assert t.list_assets() == {"assets/p.png": 4}
        assert t.swept == 1  # type: ignore[attr-defined]
    finally:
        t.close()
    assert not stale.exists() and young.exists() and foreign.exists()


def test_a_delivery_sweeps_what_a_killed_upload_of_an_older_version_left(ftp_server: Ftp, tmp_path: Path) -> None:
    # Half a page of a version no longer wanted: no upload will ever write that name again.
    (ftp_server.root / "assets").mkdir(parents=True, exist_ok=True)
    left = ftp_server.root / "assets" / f".{'c' * 64}.png.tmp"
    left.write_bytes(b"half")
    old = time.time() - STALE_TMP - 60
    os.utime(left, (old, old))
    rt = make_runtime(tmp_path / "work", [{"name": "ftp", "kind": "ftp", "options": _options(ftp_server)}])
    try:
        ch = Channel(rt)
        for i in range(3):
            ch.set(f"i{i}", page_bytes(f"i{i}", 5000))
        ch.publish()
        [r] = deliver(rt)
        assert r.status == "done", r.error
    finally:
        rt.close()
    assert not left.exists()
    t = TARGETS.get("ftp").factory("ftp", TARGETS.validate_options("ftp", _options(ftp_server)))
    try:
        check_headend(t.read, sorted(t.list_assets()), version=1)
    finally:
        t.close()
