"""Test kit for the daemon as operators run it: ``python -m pusher run`` in a subprocess, JSON logs to a file,
a generated portal on loopback and a folder headend."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feeds.xmlsafe import parse_xml
from pusher.web.httpserve import StaticServer

NS = "{urn:tvpusher:channel:1}"
ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{date}"></head><body><h1>{title}</h1>
<div id="zoom"><p>　　{body}</p></div></body></html>"""
LISTING = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<ul class="xxgk-list">
{entries}
</ul></body></html>"""


class Portal:
    """A portal of short notices in one column, served on 127.0.0.1; ``add`` publishes more."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: list[str] = []
        self.titles: list[str] = []
        self.server = StaticServer(root)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def list_url(self) -> str:
        return f"{self.server.url}/col/col1001/index.html"

    def add(self, n: int = 1, *, body: str = "元旦期间，市行政服务中心暂停对外服务。") -> list[str]:
        with self._lock:
            new = []
            for _ in range(n):
                k = len(self.titles) + 1
                title = f"关于服务时间调整的第{k}号通知"
                path = f"art/2026/11/27/art_1001_{900000 + k}.html"
                (self.root / path).parent.mkdir(parents=True, exist_ok=True)
                (self.root / path).write_text(ARTICLE.format(title=title, date="2026-11-27 10:00", body=body), encoding="utf-8")
                self.entries.insert(0, f'<li><a href="/{path}" title="{title}">{title}</a><span>2026-11-27</span></li>')
                self.titles.append(title)
                new.append(title)
            listing = self.root / "col/col1001/index.html"
            listing.parent.mkdir(parents=True, exist_ok=True)
            tmp = listing.with_suffix(".tmp")
            tmp.write_text(LISTING.format(entries="\n".join(self.entries)), encoding="utf-8")
            os.replace(tmp, listing)  # the poller never reads half a list
            return new


def write_config(path: Path, *, portal: Portal, work: Path, headend: Path, database: str = "", node: str = "",
                 health: str = "", interval: int = 10, publish_interval: int = 5, extra: str = "",
                 daemon: dict[str, Any] | None = None, max_items: int = 500) -> Path:  # fmt: skip
    d = {"node": node, "health_listen": health, "heartbeat": 0.5, "worker_interval": 0.5, "election_interval": 0.5,
         "lease_seconds": 10, **(daemon or {})}  # fmt: skip
    daemon_toml = "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items())
    path.write_text(
        f"""
[channel]
name = "测试频道"
profile = "sd"
workdir = "{work}"
database = "{database}"
publish_interval = {publish_interval}
[[columns]]
id = "tzgg"
name = "通知公告"
[[sources]]
name = "notices"
kind = "html"
url = "{portal.list_url}"
column = "tzgg"
interval = {interval}
[sources.options]
link_xpath = "//ul[contains(@class,'xxgk-list')]/li/a"
date_xpath = "../span"
max_items = {max_items}
[[targets]]
name = "headend"
kind = "folder"
options = {{ path = "{headend}" }}
[http]
delay = 0.0
per_host = 4
[daemon]
{daemon_toml}
{extra}
""",
        encoding="utf-8",
    )
    return path


def write_channels_config(path: Path, channels: dict[str, tuple[str, Path]], *, work: Path, database: str = "", node: str = "",
                          health: str = "", publish_interval: int = 5, daemon: dict[str, Any] | None = None,
                          own: dict[str, str] | None = None) -> Path:  # fmt: skip
    """A configuration of several channels: ``channels`` maps a name to (its portal's list URL,
    its headend folder); shared defaults at the top; ``own`` adds TOML lines under one channel's
    ``[channels.<name>.channel]`` table (its own database, say)."""
    d = {"node": node, "health_listen": health, "heartbeat": 0.5, "worker_interval": 0.5, "election_interval": 0.5,
         "lease_seconds": 10, **(daemon or {})}  # fmt: skip
    lines = ["[channel]", 'profile = "sd"', f'workdir = "{work}"', f'database = "{database}"', f"publish_interval = {publish_interval}",
             "[[columns]]", 'id = "tzgg"', 'name = "通知公告"', "[http]", "delay = 0.0", "per_host = 4", "[daemon]",
             *(f"{k} = {json.dumps(v)}" for k, v in d.items())]  # fmt: skip
    for name, (list_url, headend) in channels.items():
        lines += [f"[channels.{name}.channel]", f'name = "{name}频道"', *(own or {}).get(name, "").splitlines(),
                  f"[[channels.{name}.sources]]", 'name = "notices"', 'kind = "html"', f'url = "{list_url}"', 'column = "tzgg"',
                  "interval = 10", f"[channels.{name}.sources.options]", "link_xpath = \"//ul[contains(@class,'xxgk-list')]/li/a\"",
                  'date_xpath = "../span"', "max_items = 500", f"[[channels.{name}.targets]]", 'name = "headend"', 'kind = "folder"',
                  f'options = {{ path = "{headend}" }}']  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class DaemonProc:
    proc: subprocess.Popen[bytes]
    log: Path
    killed_at: float | None = None
    _seen: int = field(default=0)

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):  # a killed process may cut its last line
                    out.append(json.loads(line))
        return out

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()  # reaped: its pid is gone, so leases it held on this host are void
        self.killed_at = time.time()


def start_daemon(config: Path, log: Path, env: dict[str, str] | None = None, json_logs: bool = True) -> DaemonProc:
    args = [sys.executable, "-m", "pusher", "run", "--config", str(config)] + (["--log-json"] if json_logs else [])
    fh = open(log, "wb")  # noqa: SIM115 - the child holds it
    proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=fh, stderr=subprocess.STDOUT)
    fh.close()
    return DaemonProc(proc, log)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthz(url: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of the daemon's /healthz at ``url``; (0, {}) while nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def wait_for(pred: Callable[[], object], timeout: float = 60, every: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every)
    return False


def manifest_items(headend: Path) -> list[tuple[str, str, str]]:
    """(item id, version, title) of every item in the headend's manifest, in order."""
    from feeds.channel import expand_manifest

    try:
        # Format 2 names a manifest per column: read the items through them, as a box does.
        data = expand_manifest((headend / "channel.xml").read_bytes(), lambda href: _read(headend / href))
    except FileNotFoundError:
        return []
    return [(i.get("id", ""), i.get("version", ""), i.findtext(f"{NS}title") or "") for i in parse_xml(data).iter(f"{NS}item")]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def check_headend(headend: Path) -> None:
    """Every asset the manifest references is there, whole."""
    from feeds.channel import manifest_tree

    for href, (_, size) in manifest_tree((headend / "channel.xml").read_bytes(), lambda href: _read(headend / href)).items():
        assert (headend / href).stat().st_size == size, href


def event_time(e: dict[str, Any]) -> float:
    return time.mktime(time.strptime(e["ts"][:19], "%Y-%m-%dT%H:%M:%S")) + int(e["ts"][20:23]) / 1000


class FileWrites:
    """Counts the files renamed into folders (how the folder target lands every file), with
    inotify: the headend's own record of what was put how many times."""

    IN_MOVED_TO = 0x80
    IN_CREATE = 0x100

    def __init__(self, *folders: Path) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.root = folders[0]  # names are counted relative to the first folder
        self.dirs: dict[int, Path] = {}
        for f in folders:
            f.mkdir(parents=True, exist_ok=True)
            wd = self.libc.inotify_add_watch(self.fd, str(f).encode(), self.IN_MOVED_TO)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {f}")
            self.dirs[wd] = f
        self.counts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if not r:
                continue
            try:
                buf += os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            while len(buf) >= 16:
                wd, mask, _cookie, n = struct.unpack_from("iIII", buf)
                if len(buf) < 16 + n:
                    break
                name = buf[16 : 16 + n].rstrip(b"\0").decode()
                buf = buf[16 + n :]
                if mask & self.IN_MOVED_TO and not name.startswith("."):
                    self.counts[str((self.dirs[wd] / name).relative_to(self.root))] += 1

    def close(self) -> Counter[str]:
        time.sleep(0.5)  # let the last events arrive
        self._stop.set()
        self._thread.join()
        os.close(self.fd)
        return self.counts
