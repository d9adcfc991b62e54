"""The preview server and ``pusher preview``: real HTTP on 127.0.0.1, no browser needed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pusher.errors import ConfigError
from pusher.web.preview import VIEWER_DIR, serve_preview

SHA = "ab" * 32


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "headend"
    (f / "assets").mkdir(parents=True)
    (f / "channel.xml").write_bytes(b"<channel/>")
    (f / "assets" / f"{SHA}.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "secret.txt").write_text("outside")
    return f


def test_serves_viewer_manifest_and_assets(folder: Path) -> None:
    server, url = serve_preview(folder)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        status, headers, body = _get(url)
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert body == (VIEWER_DIR / "index.html").read_bytes()
        for name, ctype in (("viewer.js", "text/javascript"), ("viewer.css", "text/css")):
            status, headers, body = _get(url + name)
            assert (status, headers["content-type"].split(";")[0]) == (200, ctype)
            assert body == (VIEWER_DIR / name).read_bytes()
        status, headers, body = _get(url + "channel.xml")
        assert (status, body, headers["cache-control"]) == (200, b"<channel/>", "no-cache")
        assert headers["content-type"] == "application/xml"
        status, headers, body = _get(url + f"assets/{SHA}.png")
        assert (status, body, headers["content-type"]) == (200, b"\x89PNG fake", "image/png")
        assert "immutable" in headers["cache-control"]
        status, headers, _ = _get(url + f"assets/{'cd' * 32}.png")
        assert (status, headers["cache-control"]) == (404, "no-store")
    finally:
        server.close()


def test_small_answers_on_one_connection_do_not_wait_for_a_delayed_ack(folder: Path) -> None:
    """A box fetches hundreds of small parts on one kept-alive connection: with Nagle's
    algorithm each answer's body waited 40 ms for the client's delayed ACK (50 took over 2 s)."""
    import http.client
    import time

    server, _ = serve_preview(folder)
    try:
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=5)
        t0 = time.perf_counter()
        for _ in range(50):
            conn.request("GET", f"/assets/{SHA}.png")
            r = conn.getresponse()
            assert r.status == 200 and r.read() == b"\x89PNG fake"
        elapsed = time.perf_counter() - t0
        conn.close()
    finally:
        server.close()
    assert elapsed < 1.5, f"50 small answers took {elapsed:.2f} s"


def test_refuses_what_is_not_in_the_folder(folder: Path) -> None:
    with serve_preview(folder)[0] as server:
        for path in ("assets/", "../secret.txt", "%2e%2e/secret.txt", "nothing.xml"):
            status, _, body = _get(server.url + path)
            assert status == 404, path
            assert b"outside" not in body


def test_manifest_changes_are_seen_at_once(folder: Path) -> None:
    with serve_preview(folder)[0] as server:
        assert _get(server.url + "channel.xml")[2] == b"<channel/>"
        (folder / "channel.xml").write_bytes(b"<channel version='2'/>")
        assert _get(server.url + "channel.xml")[2] == b"<channel version='2'/>"


def _conditional(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_an_unchanged_manifest_is_a_304(folder: Path) -> None:
    """A box polling an unchanged channel gets headers only (issue 19), by ETag or by date; a
    changed one gets the new manifest whatever validator it sent."""
    with serve_preview(folder)[0] as server:
        url = server.url + "channel.xml"
        status, headers, _ = _get(url)
        etag, modified = headers["etag"], headers["last-modified"]
        status, headers, body = _conditional(url, If_None_Match=etag)
        assert (status, body, headers["etag"], headers["cache-control"]) == (304, b"", etag, "no-cache")
        assert _conditional(url, If_Modified_Since=modified)[0] == 304
        assert _conditional(url, If_None_Match='"other"')[0] == 200
        (folder / "channel.xml").write_bytes(b"<channel version='3'/>")
        status, headers, body = _conditional(url, If_None_Match=etag)
        assert (status, body) == (200, b"<channel version='3'/>") and headers["etag"] != etag


def test_missing_folder_and_busy_port_are_config_errors(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        serve_preview(tmp_path / "nope")
    server, url = serve_preview(folder)
    try:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(ConfigError, match="cannot listen"):
            serve_preview(folder, port=port)
    finally:
        server.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_pusher_preview_prints_url_serves_and_stops_on_ctrl_c(folder: Path, sig: signal.Signals) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("PUSHER_CONFIG", None)
    code = "from pusher.cli import run; run()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "preview", "--port", "0", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.match(r"机顶盒查看器：(http://127\.0\.0\.1:\d+/)（目录 (.+)；Ctrl-C 停止）$", line.rstrip("\n"))
        assert m, line
        assert Path(m.group(2)) == folder.resolve()
        assert _get(m.group(1) + "channel.xml")[2] == b"<channel/>"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert out.strip().endswith("已停止")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_pusher_preview_missing_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    from pusher.cli import main

    assert main(["preview", "--port", "0", str(tmp_path / "nope")]) == 2
