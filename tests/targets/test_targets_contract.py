"""The target contract: every registered target kind passes the same checks against a real
headend on 127.0.0.1 (a folder, Debian nginx with WebDAV, pyftpdlib FTP and FTPS).

A new target kind is covered by adding one subclass of :class:`TargetContract` below; the last
test fails while a registered kind has none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from targetkit import PASSWORD, TOKEN, USER, Channel, DeployNginx, Ftp, Nginx, check_headend, free_port, make_runtime, page_bytes

from pusher.errors import TargetError
from pusher.interfaces import Target
from pusher.registry import TARGETS
from pusher.stages.outbox import deliver


class TargetContract:
    """Subclasses provide ``options`` (the ``[[targets]]`` table, kind included, for a live
    headend) and ``dead_options`` (the same kind pointing at nothing)."""

    kind: str

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        raise NotImplementedError

    @pytest.fixture
    def dead_options(self) -> dict[str, Any]:
        raise NotImplementedError

    def make(self, options: dict[str, Any]) -> Target:
        entry = TARGETS.get(self.kind)
        return entry.factory("t1", TARGETS.validate_options(self.kind, options["options"]))

    @pytest.fixture
    def target(self, options: dict[str, Any]) -> Iterator[Target]:
        t = self.make(options)
        yield t
        t.close()

    def test_empty_headend_lists_nothing(self, target: Target) -> None:
        assert target.list_assets() == {}
        assert target.read("channel.xml") is None

    def test_put_is_read_back_whole(self, target: Target) -> None:
        data = page_bytes("a", 200_000)  # several upload blocks
        name = f"assets/{hashlib.sha256(data).hexdigest()}.png"
        target.put(name, data)
        assert target.read(name) == data
        assert target.list_assets() == {name: len(data)}

    def test_put_again_is_idempotent(self, target: Target) -> None:
        data = page_bytes("b")
        target.put("assets/b.png", data)
        target.put("assets/b.png", data)
        assert target.list_assets() == {"assets/b.png": len(data)}

    def test_empty_file(self, target: Target) -> None:
        target.put("assets/empty.png", b"")
        assert target.read("assets/empty.png") == b""

    def test_manifest_replaces_and_leaves_no_temporary_file(self, target: Target) -> None:
        target.put("assets/p.png", b"page")
        target.publish_manifest(b"<channel version='1'/>")
        target.publish_manifest(b"<channel version='2'/>")
        assert target.read("channel.xml") == b"<channel version='2'/>"
        assert target.list_assets() == {"assets/p.png": 4}

    def test_delete(self, target: Target) -> None:
        target.put("assets/d.png", b"d")
        target.delete("assets/d.png")
        target.delete("assets/d.png")  # deleting what is gone is not an error
        assert target.read("assets/d.png") is None
        assert target.list_assets() == {}

    def test_names_outside_the_folder_are_refused(self, target: Target) -> None:
        # A trailing newline passed a "$"-anchored check: a second line in an FTP command.
        for bad in ("../escape.png", "assets/../../x", "/etc/passwd", "assets/sub/x.png", "", "assets/x.png\n", "channel.xml\n"):
            with pytest.raises(TargetError):
                target.put(bad, b"x")

    def test_a_second_connection_sees_the_same_files(self, target: Target, options: dict[str, Any]) -> None:
        target.put("assets/s.png", b"shared")
        target.close()
        other = self.make(options)
        try:
            assert other.read("assets/s.png") == b"shared"
        finally:
            other.close()

    def test_unreachable_headend_is_a_target_error(self, dead_options: dict[str, Any]) -> None:
        t = self.make(dead_options)
        try:
            with pytest.raises(TargetError) as exc:
                t.put("assets/x.png", b"x")
            assert exc.value.target == "t1"
            assert PASSWORD not in str(exc.value) and TOKEN not in str(exc.value)
        finally:
            t.close()

    def test_delivery_sends_only_the_delta_and_verifies(self, options: dict[str, Any], tmp_path: Path) -> None:
        rt = make_runtime(tmp_path / "work", [{"name": "t1", **options}])
        try:
            ch = Channel(rt)
            for i in range(4):
                ch.set(f"i{i}", page_bytes(f"i{i}p1"), page_bytes(f"i{i}p2"))
            ch.publish()
            [r1] = deliver(rt)
            assert r1.status == "done", r1.error
            assert r1.files == 4 * 2 + 2 + 1  # item pages, home and column menus, manifest
            ch.set("i1", page_bytes("i1p1-new"), page_bytes("i1p2"))
            ch.publish()
            [r2] = deliver(rt)
            assert (r2.status, r2.files, r2.skipped) == ("done", 1 + 1, 9)  # the new page, the manifest
            t = self.make(options)
            try:
                check_headend(t.read, sorted(t.list_assets()), version=2)
            finally:
                t.close()
        finally:
            rt.close()

    def test_files_we_never_wrote_are_neither_adopted_nor_deleted(self, target: Target, options: dict[str, Any], tmp_path: Path) -> None:
        """Issue 15: a first delivery adopted every listed name, and past the grace period
        deleted ``assets/passwd``. Only ``assets/<sha256>.<ext>`` is ours."""
        foreign = {"assets/passwd": b"root:x:0:0", "assets/README": b"headend notes", "assets/a.png": b"not named by its hash"}
        for name, data in foreign.items():
            target.put(name, data)
        target.close()
        rt = make_runtime(tmp_path / "work", [{"name": "t1", **options, "options": {**options["options"], "grace_hours": 0}}])
        try:
            ch = Channel(rt)
            for i in range(3):
                ch.set(f"i{i}", page_bytes(f"i{i}"))
            ch.publish()
            assert deliver(rt)[0].status == "done"
            del ch.items["i0"]
            ch.publish()
            [r] = deliver(rt)  # grace 0: what the manifest dropped goes at once, and only that
            assert (r.status, r.deleted) == ("done", 2), r  # i0's page and the old column menu
        finally:
            rt.close()
        t = self.make(options)
        try:
            for name, data in foreign.items():
                assert t.read(name) == data, f"{name} was deleted"
            check_headend(t.read, [n for n in t.list_assets() if n not in foreign], version=2)
        finally:
            t.close()

    def test_a_target_added_later_gets_the_current_version(self, options: dict[str, Any], tmp_path: Path) -> None:
        """Issue 15: publish queued deliveries for the targets of the time only."""
        first = {"name": "first", "kind": "folder", "options": {"path": str(tmp_path / "first")}}
        rt = make_runtime(tmp_path / "work", [first])
        try:
            ch = Channel(rt)
            ch.set("i0", page_bytes("i0"), page_bytes("i0b"))
            ch.publish()
            assert deliver(rt)[0].status == "done"
        finally:
            rt.close()
        rt = make_runtime(tmp_path / "work", [first, {"name": "t1", **options}])
        try:
            reports = {r.target: r for r in deliver(rt)}
            assert (reports["t1"].status, reports["t1"].version, reports["t1"].files) == ("done", 1, 2 + 2 + 1), reports["t1"]
        finally:
            rt.close()
        t = self.make(options)
        try:
            check_headend(t.read, sorted(t.list_assets()), version=1)
        finally:
            t.close()


class TestFolder(TargetContract):
    kind = "folder"

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        return {"kind": "folder", "options": {"path": str(tmp_path / "drop")}}

    @pytest.fixture
    def dead_options(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the drop folder's parent should be")
        return {"kind": "folder", "options": {"path": str(blocker / "drop")}}

    def test_unreachable_headend_is_a_target_error(self, dead_options: dict[str, Any]) -> None:
        with pytest.raises(TargetError):
            t = self.make(dead_options)
            t.put("assets/x.png", b"x")


class TestWebDav(TargetContract):
    kind = "webdav"

    @pytest.fixture
    def options(self, nginx: Nginx) -> dict[str, Any]:
        return {"kind": "webdav", "options": {"url": nginx.url, "username": USER, "password": PASSWORD}}

    @pytest.fixture
    def dead_options(self) -> dict[str, Any]:
        return {"kind": "webdav", "options": {"url": f"http://127.0.0.1:{free_port()}/", "username": USER, "password": PASSWORD}}


class TestWebDavDeployedConfig(TargetContract):
    """The site configuration shipped in deploy/, as an operator installs it."""

    kind = "webdav"

    @pytest.fixture
    def options(self, deployed: DeployNginx) -> dict[str, Any]:
        return {"kind": "webdav", "options": {"url": deployed.url, "username": USER, "password": PASSWORD}}

    @pytest.fixture
    def dead_options(self) -> dict[str, Any]:
        return {"kind": "webdav", "options": {"url": f"http://127.0.0.1:{free_port()}/channel/", "username": USER, "password": PASSWORD}}


def test_deployed_config_reads_openly_writes_with_a_password_and_hides_the_rest(deployed: DeployNginx) -> None:
    import httpx

    auth = (USER, PASSWORD)
    assert httpx.put(deployed.url + "assets/a.png", content=b"a").status_code == 401
    assert httpx.request("MOVE", deployed.url + "x", headers={"Destination": deployed.url + "channel.xml"}).status_code == 401
    assert httpx.request("PROPFIND", deployed.url + "assets/", headers={"Depth": "1"}).status_code == 401
    assert httpx.put(deployed.url + "assets/a.png", content=b"a", auth=auth).status_code == 201
    assert httpx.put(deployed.url + "channel.xml", content=b"<c/>", auth=auth).status_code == 201
    r = httpx.get(deployed.url + "assets/a.png")
    assert r.content == b"a" and "immutable" in r.headers["cache-control"]
    assert httpx.get(deployed.url + "channel.xml").headers["cache-control"] == "no-cache"
    assert httpx.delete(deployed.url + "assets/a.png").status_code == 401
    assert httpx.get(deployed.url.replace("/channel/", "/.tmp/")).status_code == 404


class TestWebDavBearerJsonListing(TargetContract):
    """Bearer token, nginx's JSON autoindex for listings, size-only asset verification."""

    kind = "webdav"

    @pytest.fixture
    def options(self, nginx: Nginx) -> dict[str, Any]:
        return {"kind": "webdav", "options": {"url": nginx.url + "bearer/", "token": TOKEN, "listing": "json", "verify": "size"}}

    @pytest.fixture
    def dead_options(self) -> dict[str, Any]:
        return {"kind": "webdav", "options": {"url": f"http://127.0.0.1:{free_port()}/", "token": TOKEN}}


class TestFtp(TargetContract):
    kind = "ftp"

    @pytest.fixture
    def options(self, ftp_server: Ftp) -> dict[str, Any]:
        return {"kind": "ftp", "options": {"host": "127.0.0.1", "port": ftp_server.port, "username": USER, "password": PASSWORD}}

    @pytest.fixture
    def dead_options(self) -> dict[str, Any]:
        return {"kind": "ftp", "options": {"host": "127.0.0.1", "port": free_port(), "username": USER, "password": PASSWORD, "timeout": 2}}


class TestFtps(TargetContract):
    """Explicit FTPS with the server certificate verified against a private CA file."""

    kind = "ftp"

    @pytest.fixture
    def options(self, tmp_path: Path, cert: tuple[Path, Path]) -> Iterator[dict[str, Any]]:
        srv = Ftp(tmp_path / "ftpsroot", tls=cert).start()
        yield {
            "kind": "ftp",
            "options": {"host": "127.0.0.1", "port": srv.port, "username": USER, "password": PASSWORD, "tls": True,
                        "ca_file": str(cert[0]), "verify": "sha256"},
        }  # fmt: skip
        srv.stop()

    @pytest.fixture
    def dead_options(self) -> dict[str, Any]:
        return {"kind": "ftp", "options": {"host": "127.0.0.1", "port": free_port(), "username": USER, "password": PASSWORD, "tls": True}}


# -- what is particular to one transport ---------------------------------------------------------


def test_webdav_wrong_password_is_a_clear_error_without_the_password(nginx: Nginx) -> None:
    t = TARGETS.get("webdav").factory("w", TARGETS.validate_options("webdav", {"url": nginx.url, "username": USER, "password": "wrong-pw"}))
    with pytest.raises(TargetError, match="access refused") as exc:
        t.put("assets/x.png", b"x")
    assert "wrong-pw" not in str(exc.value)


def test_webdav_tls_is_verified_by_default(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    srv = Nginx(tmp_path / "ng", tmp_path / "root", tls=cert).start()
    try:
        base = {"url": srv.url, "username": USER, "password": PASSWORD}
        untrusted = TARGETS.get("webdav").factory("w", TARGETS.validate_options("webdav", base))
        with pytest.raises(TargetError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            untrusted.put("assets/x.png", b"x")
        trusted = TARGETS.get("webdav").factory("w", TARGETS.validate_options("webdav", {**base, "ca_file": str(cert[0])}))
        trusted.put("assets/x.png", b"x")
        assert trusted.read("assets/x.png") == b"x"
    finally:
        srv.stop()


def test_webdav_overall_deadline_stops_a_trickling_headend() -> None:
    """A server that answers one byte at a time keeps every socket read short: only the
    overall deadline ends the request."""
    import socket
    import threading
    import time

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()
    port = lsock.getsockname()[1]
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = lsock.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.05)
        conn.close()

    th = threading.Thread(target=trickle, daemon=True)
    th.start()
    opts = TARGETS.validate_options("webdav", {"url": f"http://127.0.0.1:{port}/", "timeout": 1, "deadline": 1})
    t = TARGETS.get("webdav").factory("w", opts)
    start = time.monotonic()
    with pytest.raises(TargetError, match="within 1 s"):
        t.read("channel.xml")
    assert time.monotonic() - start < 3
    stop.set()
    t.close()
    lsock.close()


def test_webdav_options_refuse_credentials_in_the_url() -> None:
    from pusher.errors import ConfigError

    with pytest.raises(ConfigError, match="credentials"):
        TARGETS.validate_options("webdav", {"url": "https://tv:pw@headend.example/channel/"})


def test_every_registered_kind_runs_the_contract() -> None:
    covered = {cls.kind for cls in TargetContract.__subclasses__()}
    assert set(TARGETS.kinds()) <= covered, f"target kinds without contract tests: {set(TARGETS.kinds()) - covered}"
