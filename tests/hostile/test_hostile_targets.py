"""Hostile and broken headends (issue 15, findings 5 and 10-14).

A small WebDAV server on 127.0.0.1 (:class:`HostileDav`, an ``http.server`` subclass that keeps
what it is sent in memory) answers PROPFIND and GET as each test tells it: sizes that are not
numbers, names we never wrote, JSON that is not a listing, bodies of hundreds of megabytes
generated as they are sent. Where a real headend shows the point better, the real nginx of the
target tests is used (``tests/targets/targetkit.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from sqlmodel import col, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "targets"))
from targetkit import NGINX, PASSWORD, USER, Channel, Nginx, check_headend, free_port, make_runtime, page_bytes

from pusher.errors import TargetError, VerifyError
from pusher.registry import TARGETS
from pusher.runtime import Runtime
from pusher.stages.outbox import ALERT_BACKOFF_MAX, deliver, verify
from pusher.store.models import Delivery, TargetAsset
from pusher.targets.folder import FolderOptions, FolderTarget
from pusher.timeutil import utcnow

MB = 1024 * 1024
#: Answer-producing function: (status, headers, body chunks). Bodies are generators, so a
#: "huge" answer is never held by the server either.
Answer = Callable[[], tuple[int, dict[str, str], Iterable[bytes]]]


class HostileDav(ThreadingHTTPServer):
    """An in-memory WebDAV headend: PUT, GET, HEAD, DELETE, MOVE and PROPFIND (Depth 1) on
    ``assets/``, with ``extra`` listing entries (href, getcontentlength) that are not files and
    ``answers`` that replace what a method on a path would say."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.extra: list[tuple[str, str]] = []
        self.answers: dict[tuple[str, str], Answer] = {}
        self.requests: list[tuple[str, str]] = []
        self.sent = 0  # body bytes written, all answers
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def __enter__(self) -> HostileDav:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def deletes(self) -> list[str]:
        return [p for m, p in self.requests if m == "DELETE"]

    def multistatus(self) -> bytes:
        rows = [("/assets/", None)] + [("/" + quote(n), str(len(d))) for n, d in sorted(self.files.items()) if n.startswith("assets/")]
        rows += self.extra
        parts = [b'<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">']
        for href, size in rows:
            prop = (
                f"<D:getcontentlength>{size}</D:getcontentlength>"
                if size is not None
                else "<D:resourcetype><D:collection/></D:resourcetype>"
            )
            parts.append(f"<D:response><D:href>{href}</D:href><D:propstat><D:prop>{prop}</D:prop></D:propstat></D:response>".encode())
        parts.append(b"</D:multistatus>")
        return b"".join(parts)


class _Handler(BaseHTTPRequestHandler):
    server: HostileDav

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _key(self) -> str:
        return unquote(urlsplit(self.path).path).lstrip("/")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, headers: dict[str, str] | None = None, body: Iterable[bytes] = (), *, head: bool = False) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        try:
            for chunk in body:
                self.wfile.write(chunk)
                with self.server.lock:
                    self.server.sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what a cap is for

    def _dispatch(self, method: str) -> bool:
        self.server.requests.append((method, self._key()))
        answer = self.server.answers.get((method, self._key()))
        if answer is None:
            return False
        if method in ("PUT", "PROPFIND"):
            self._body()
        status, headers, body = answer()
        self._answer(status, headers, body)
        return True

    def do_PUT(self) -> None:
        if not self._dispatch("PUT"):
            self.server.files[self._key()] = self._body()
            self._answer(201, {"Content-Length": "0"})

    def do_GET(self, head: bool = False) -> None:
        if self._dispatch("HEAD" if head else "GET"):
            return
        data = self.server.files.get(self._key())
        if data is None:
            self._answer(404, {"Content-Length": "0"}, head=head)
        else:
            self._answer(200, {"Content-Length": str(len(data))}, [data], head=head)

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_DELETE(self) -> None:
        if not self._dispatch("DELETE"):
            self.server.files.pop(self._key(), None)
            self._answer(204)

    def do_MOVE(self) -> None:
        if not self._dispatch("MOVE"):
            dest = unquote(urlsplit(self.headers["Destination"]).path).lstrip("/")
            self.server.files[dest] = self.server.files.pop(self._key())
            self._answer(201, {"Content-Length": "0"})

    def do_PROPFIND(self) -> None:
        if not self._dispatch("PROPFIND"):
            self._body()
            body = self.server.multistatus()
            self._answer(207, {"Content-Type": "application/xml", "Content-Length": str(len(body))}, [body])


def generated(total: int, head: bytes = b"", filler: bytes = b"x" * 65536) -> Iterator[bytes]:
    """``total`` bytes made as they are sent."""
    yield head
    left = total - len(head)
    while left > 0:
        piece = filler[: min(left, len(filler))]
        left -= len(piece)
        yield piece


def huge_multistatus(total: int) -> Iterator[bytes]:
    """A well-formed-looking PROPFIND answer that never ends: response after response."""
    row = b"<D:response><D:href>/assets/x.png</D:href><D:propstat><D:prop><D:getcontentlength>1</D:getcontentlength></D:prop></D:propstat></D:response>"
    return generated(total, b'<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">', row * (65536 // len(row)))


@pytest.fixture
def dav() -> Iterator[HostileDav]:
    with HostileDav() as srv:
        yield srv


@pytest.fixture
def rt_factory(tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    made: list[Runtime] = []

    def make(*targets: dict[str, Any]) -> Runtime:
        rt = make_runtime(tmp_path / "work", list(targets))
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


def webdav(url: str, name: str = "dav", **options: Any) -> dict[str, Any]:
    return {"name": name, "kind": "webdav", "options": {"url": url, **options}}


def channel_of(rt: Runtime, n: int = 3) -> Channel:
    ch = Channel(rt)
    for i in range(n):
        ch.set(f"i{i}", page_bytes(f"i{i}a"), page_bytes(f"i{i}b"))
    return ch


def claims_of(rt: Runtime, target: str) -> list[str]:
    with rt.store.read() as db:
        return [d.claimed_by for d in db.exec(select(Delivery).where(Delivery.target == target)) if d.claimed_by]


def make_dav(url: str, **options: Any) -> Any:
    return TARGETS.get("webdav").factory("dav", TARGETS.validate_options("webdav", {"url": url, **options}))


# -- 5: a target added to a running installation -------------------------------------------------


@pytest.mark.skipif(not Path(NGINX).exists(), reason="Debian nginx (nginx-full) is not installed")
def test_a_target_added_later_gets_the_current_version_in_full(tmp_path: Path, rt_factory: Any) -> None:
    drop = {"name": "drop", "kind": "folder", "options": {"path": str(tmp_path / "drop")}}
    rt = rt_factory(drop)
    channel_of(rt).publish()
    assert [r.status for r in deliver(rt)] == ["done"]
    srv = Nginx(tmp_path / "nginx", tmp_path / "headend").start()
    try:
        # The operator adds a WebDAV headend and restarts; the channel has not changed since.
        rt2 = rt_factory(drop, webdav(srv.url, username=USER, password=PASSWORD))
        before = verify(rt2, "dav", repair=False)
        assert not before.ok and not before.manifest_ok, "verify called an empty new headend 正常"
        assert before.version == 1 and len(before.missing) == before.checked == 3 * 2 + 2
        reports = {r.target: r for r in deliver(rt2)}
        assert reports["drop"].status == "idle"  # nothing new for the old one
        new = reports["dav"]
        assert (new.status, new.version, new.files) == ("done", 1, 3 * 2 + 2 + 1), new.error  # every page, then the manifest
        check_headend(lambda n: (srv.root / n).read_bytes() if (srv.root / n).is_file() else None, [], version=1)
        assert verify(rt2, "dav", repair=False).ok
        assert deliver(rt2, "dav")[0].status == "idle"  # and once is enough
    finally:
        srv.stop()


def test_verify_of_a_new_target_repairs_it(tmp_path: Path, dav: HostileDav, rt_factory: Any) -> None:
    drop = {"name": "drop", "kind": "folder", "options": {"path": str(tmp_path / "drop")}}
    rt = rt_factory(drop)
    channel_of(rt).publish()
    deliver(rt)
    rt2 = rt_factory(drop, webdav(dav.url))
    rep = verify(rt2, "dav")
    assert not rep.ok and rep.repaired is not None and rep.repaired.status == "done", rep
    assert "channel.xml" in dav.files and verify(rt2, "dav").ok


# -- 10: answers without a body cap --------------------------------------------------------------


def _peak(fn: Callable[[], object]) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    err: BaseException | None = None
    try:
        fn()
    except Exception as exc:  # the caller checks which
        err = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, err


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "declared"])
def test_a_huge_propfind_is_cut_at_the_cap_in_bounded_memory(dav: HostileDav, declared: bool) -> None:
    size = 256 * MB
    headers = {"Content-Type": "application/xml", **({"Content-Length": str(size)} if declared else {})}
    dav.answers[("PROPFIND", "assets/")] = lambda: (207, headers, huge_multistatus(size))
    t = make_dav(dav.url)
    try:
        peak, err = _peak(t.list_assets)
    finally:
        t.close()
    assert isinstance(err, TargetError) and "cap" in str(err), err
    assert peak < 40 * MB, f"listing took {peak / MB:.0f} MB"
    assert dav.sent < 64 * MB, "the client read on past the cap"


def test_a_huge_read_back_fails_the_put_in_bounded_memory(dav: HostileDav) -> None:
    data = page_bytes("p", 50_000)
    name = f"assets/{hashlib.sha256(data).hexdigest()}.png"
    dav.answers[("GET", name)] = lambda: (200, {}, generated(256 * MB))  # no length, no end in sight
    t = make_dav(dav.url)
    try:
        peak, err = _peak(lambda: t.put(name, data))
    finally:
        t.close()
    assert isinstance(err, VerifyError) and "more than 50000 bytes" in str(err), err
    assert peak < 20 * MB, f"read-back took {peak / MB:.0f} MB"
    assert name not in dav.files, "a wrong file under a content-hash name was left"


def test_a_huge_channel_xml_is_refused_at_the_cap(dav: HostileDav) -> None:
    dav.answers[("GET", "channel.xml")] = lambda: (200, {}, generated(64 * MB))
    t = make_dav(dav.url, max_bytes=MB)
    try:
        peak, err = _peak(lambda: t.read("channel.xml"))
    finally:
        t.close()
    assert isinstance(err, TargetError) and f"cap of {MB} bytes" in str(err), err
    assert peak < 8 * MB


def test_a_compressed_answer_is_refused_not_inflated(dav: HostileDav) -> None:
    import gzip

    bomb = gzip.compress(b"\0" * (64 * MB))  # 64 KB on the wire
    dav.answers[("GET", "channel.xml")] = lambda: (200, {"Content-Encoding": "gzip", "Content-Length": str(len(bomb))}, [bomb])
    t = make_dav(dav.url)
    try:
        peak, err = _peak(lambda: t.read("channel.xml"))
    finally:
        t.close()
    assert isinstance(err, TargetError) and "Content-Encoding" in str(err), err
    assert peak < 8 * MB


# -- 11: odd answers are target errors, and the claim is released --------------------------------


ODD_PROPFIND = [
    ("/assets/a.png", "12abc"),
    ("/assets/a.png", "-5"),
    ("/assets/a.png", "1_2"),
    ("/assets/a.png", "１２"),  # full-width digits: str.isdigit says yes, a size they are not
    ("/assets/a.png", "9" * 5000),  # int() refuses past 4300 digits with a ValueError
]


@pytest.mark.parametrize("href,size", ODD_PROPFIND, ids=[s[:8] for _, s in ODD_PROPFIND])
def test_an_odd_propfind_size_fails_the_delivery_and_releases_it(dav: HostileDav, rt_factory: Any, href: str, size: str) -> None:
    dav.extra.append((href, size))
    rt = rt_factory(webdav(dav.url))
    channel_of(rt).publish()
    [r] = deliver(rt)
    assert r.status == "failed" and "is not a size" in r.error, r
    assert claims_of(rt, "dav") == [], "the delivery stayed claimed"


ODD_JSON = {
    "object": b'{"name": "a.png", "type": "file", "size": 1}',
    "numbers": b"[1, 2, 3]",
    "nameless": b'[{"type": "file", "size": 1}]',
    "string-size": b'[{"name": "a.png", "type": "file", "size": "12abc"}]',
    "bool-size": b'[{"name": "a.png", "type": "file", "size": true}]',
    "not-json": b"<html>autoindex off</html>",
}


@pytest.mark.parametrize("body", ODD_JSON.values(), ids=ODD_JSON.keys())
def test_an_odd_json_listing_fails_the_delivery_and_releases_it(dav: HostileDav, rt_factory: Any, body: bytes) -> None:
    dav.answers[("GET", "assets/")] = lambda: (200, {"Content-Type": "application/json"}, [body])
    rt = rt_factory(webdav(dav.url, listing="json"))
    channel_of(rt).publish()
    [r] = deliver(rt)
    assert r.status == "failed" and "GET assets/" in r.error, r
    assert claims_of(rt, "dav") == []
    dav.answers.clear()  # the headend heals: the next delivery goes through
    with rt.store.write() as db:
        db.exec(update(Delivery).values(next_attempt_at=utcnow()))
    assert deliver(rt)[0].status == "done"


def test_a_propfind_href_below_the_folder_is_not_an_asset_of_it(dav: HostileDav) -> None:
    data = page_bytes("deep")
    leaf = f"{hashlib.sha256(data).hexdigest()}.png"
    dav.files[f"assets/sub/{leaf}"] = data
    dav.extra.append((f"http://127.0.0.1/assets/sub/{leaf}", str(len(data))))
    t = make_dav(dav.url)
    try:
        assert t.list_assets() == {}, "an asset below assets/ would be taken as present and never sent"
    finally:
        t.close()


def test_an_unparsable_propfind_is_a_target_error(dav: HostileDav) -> None:
    dav.answers[("PROPFIND", "assets/")] = lambda: (207, {}, [b"<D:multistatus xmlns:D='DAV:'><D:response>"])
    t = make_dav(dav.url)
    try:
        with pytest.raises(TargetError, match=r"PROPFIND assets/: .*not well-formed"):
            t.list_assets()
    finally:
        t.close()


# -- 12: names the headend lists that we never wrote ---------------------------------------------


def test_foreign_names_are_neither_adopted_nor_deleted(dav: HostileDav, rt_factory: Any) -> None:
    dav.files["assets/passwd"] = b"root:x:0:0"
    dav.files["assets/README"] = b"headend notes"
    dav.extra += [("/assets/%5C..%5Cwin.png", "3"), ("/assets/..%2F..%2Fetc%2Fshadow", "4"), ("/assets/x.png%0A", "1")]
    rt = rt_factory(webdav(dav.url, grace_hours=0))
    ch = channel_of(rt)
    ch.publish()
    assert deliver(rt)[0].status == "done"  # the first delivery lists the headend and adopts
    with rt.store.read() as db:
        held = {a.name for a in db.exec(select(TargetAsset))}
    assert all(n.removeprefix("assets/")[:64].isalnum() and len(n) > 70 for n in held), held
    gone = ch.items.pop("i2")
    ch.publish()
    [r] = deliver(rt)  # grace 0: i2's pages and the old menu go at once
    assert r.status == "done" and r.deleted == len(gone) + 1, r
    assert all(d.removeprefix("assets/")[:64].isalnum() for d in dav.deletes()), dav.deletes()
    assert dav.files["assets/passwd"] == b"root:x:0:0" and "assets/README" in dav.files
    assert verify(rt, "dav").ok


def test_a_foreign_name_adopted_before_no_longer_stops_the_collection(dav: HostileDav, rt_factory: Any) -> None:
    rt = rt_factory(webdav(dav.url, grace_hours=0))
    ch = channel_of(rt)
    ch.publish()
    deliver(rt)
    long_ago = utcnow() - timedelta(days=2)
    with rt.store.write() as db:  # what the outbox adopted before only our names were
        for n in ("assets/\\..\\win.png", "assets/passwd"):
            db.add(TargetAsset(target="dav", name=n, bytes=3, pushed_at=long_ago, unreferenced_since=long_ago))
    dav.files["assets/passwd"] = b"root:x:0:0"
    gone = ch.items.pop("i0")
    ch.publish()
    [r] = deliver(rt)
    assert r.status == "done" and r.deleted == len(gone) + 1, r
    assert "assets/passwd" in dav.files and "assets/passwd" not in dav.deletes()
    with rt.store.read() as db:
        assert not [a.name for a in db.exec(select(TargetAsset)) if not a.name.removeprefix("assets/")[:64].isalnum()]


# -- 13: leftovers of killed folder writes ------------------------------------------------------


KILLED_WRITER = """
import os, sys, time
from pusher.targets.folder import FolderOptions, FolderTarget
def hang(src, dst):
    print("written", flush=True)
    time.sleep(60)
os.replace = hang  # killed between the fsync and the rename
FolderTarget("t", FolderOptions(path=sys.argv[1])).put(sys.argv[2], b"x" * 100_000)
"""


def test_temporary_files_of_killed_writers_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "drop"
    writers = [
        subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(root), f"assets/{hashlib.sha256(bytes([i])).hexdigest()}.png"],
                         stdout=subprocess.PIPE, text=True)
        for i in range(3)
    ]  # fmt: skip
    for p in writers:  # all three mid-write at once, then killed
        assert p.stdout is not None and p.stdout.readline().strip() == "written"
    for p in writers:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        assert p.stdout is not None
        p.stdout.close()
    leftovers = [f for f in (root / "assets").iterdir() if f.name.startswith(".")]
    assert len(leftovers) == 3 and all(f.name.endswith(".tmp") for f in leftovers)
    # A write in progress in a live process of this host, and files of unknown writers: kept
    # while they are young.
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        host = next(iter(leftovers)).name.rsplit(".", 2)[-2]
        busy = root / "assets" / f".{'b' * 64}.png.{live.pid}.{host}.tmp"
        other_host = root / "assets" / f".{'c' * 64}.png.{live.pid}.otherbox.tmp"
        old_style = root / ".channel.xml.999999.tmp"
        stale = root / "assets" / f".{'d' * 64}.png.1.otherbox.tmp"
        for f in (busy, other_host, old_style, stale):
            f.write_bytes(b"partial")
        hour_ago = time.time() - 3700
        os.utime(stale, (hour_ago, hour_ago))
        t = FolderTarget("t", FolderOptions(path=root))
        assert t.swept == 4
        assert not any(f.exists() for f in leftovers) and not stale.exists()
        assert busy.exists() and other_host.exists() and old_style.exists()
        assert t.list_assets() == {}
    finally:
        live.kill()
        live.wait()
    assert FolderTarget("t", FolderOptions(path=root)).swept == 1  # the live writer has gone now


# -- 14: alerts against a failing headend --------------------------------------------------------


def _seconds_until(dt: datetime) -> float:
    return ((dt if dt.tzinfo else dt.replace(tzinfo=UTC)) - utcnow()).total_seconds()  # SQLite hands back naive UTC


def _make_alert(rt: Runtime, version: int) -> None:
    with rt.store.write() as db:
        db.exec(update(Delivery).where(col(Delivery.channel_version) == version).values(priority=2))


def test_an_alert_backs_off_briefly_from_a_failing_headend(rt_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    rt = rt_factory(webdav(f"http://127.0.0.1:{free_port()}/", timeout=1))
    ch = channel_of(rt)
    cv = ch.publish()
    _make_alert(rt, cv.version)
    with caplog.at_level(logging.WARNING, logger="tvpusher.deliver"):
        start = time.monotonic()
        # The daemon's worker, every 50 ms, for less than the shortest first backoff (1 s): a
        # count of calls would, on a loaded machine, run past it and meet the retry.
        while time.monotonic() - start < 0.9:
            deliver(rt)
            time.sleep(0.05)
    warnings = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(warnings) == 1, f"{len(warnings)} warnings in {time.monotonic() - start:.1f} s"
    with rt.store.read() as db:
        d = db.exec(select(Delivery).where(Delivery.channel_version == cv.version)).one()
    assert d.attempts == 1 and d.claimed_by == ""
    # Briefly: even after many failures an alert waits at most ALERT_BACKOFF_MAX.
    with rt.store.write() as db:
        db.exec(update(Delivery).values(attempts=40, next_attempt_at=utcnow()))
    [r] = deliver(rt)
    assert r.status == "failed"
    with rt.store.read() as db:
        d = db.exec(select(Delivery).where(Delivery.channel_version == cv.version)).one()
    wait = _seconds_until(d.next_attempt_at)
    assert ALERT_BACKOFF_MAX / 2 - 1 <= wait <= ALERT_BACKOFF_MAX, wait


def test_a_new_alert_goes_ahead_of_a_long_backoff(rt_factory: Any) -> None:
    rt = rt_factory(webdav(f"http://127.0.0.1:{free_port()}/", timeout=1))
    ch = channel_of(rt)
    ch.publish()
    for _ in range(6):  # a headend down for a while: minutes of backoff
        with rt.store.write() as db:
            db.exec(update(Delivery).values(next_attempt_at=utcnow()))
        assert deliver(rt)[0].status == "failed"
    assert deliver(rt)[0].status == "waiting"
    ch.set("alert", page_bytes("alert"))
    cv = ch.publish()
    _make_alert(rt, cv.version)
    [r] = deliver(rt)
    assert (r.status, r.version) == ("failed", cv.version), "the alert waited for the regular backoff"
    with rt.store.read() as db:
        d = db.exec(select(Delivery).where(Delivery.channel_version == cv.version)).one()
    assert d.attempts == 7  # the backoff is carried over, capped for an alert
    assert _seconds_until(d.next_attempt_at) <= ALERT_BACKOFF_MAX
