"""Real headends for the target tests (nginx with WebDAV, pyftpdlib FTP/FTPS) and a small
channel publisher that makes channel versions from synthetic page bytes, without rendering.

nginx runs as root (the tests do) with a generated configuration in a temporary prefix; the
WebDAV methods come from Debian's nginx-full (``dav_methods``) and listings from its dav-ext
module (``PROPFIND``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlmodel import update

from feeds.channel import ChannelSpec, ColumnSpec, ItemSpec, PageRef, build_manifest, manifest_tree
from feeds.channel import folder_reader as folder_reader  # the tests of this folder take it from here
from pusher.config.settings import parse_settings
from pusher.runtime import Runtime
from pusher.store.models import ChannelVersion, Delivery
from pusher.timeutil import utcnow

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DAV_EXT = Path("/usr/lib/nginx/modules/ngx_http_dav_ext_module.so")
USER, PASSWORD, TOKEN = "tv", "s3cret-pa55", "tok-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, up: bool = True, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.02)
    raise RuntimeError(f"port {port} did not come {'up' if up else 'down'}")


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{load_module}
events {{ worker_connections 256; }}
http {{
    log_format tvp '$request_method $uri $status $request_length $bytes_sent';
    access_log {prefix}/access.log tvp;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    sendfile on;
    server {{
        listen 127.0.0.1:{port}{ssl};
        {tls}
        root {root};
        client_max_body_size 64m;
        location / {{
            dav_methods PUT DELETE MOVE;
            {dav_ext}
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            autoindex on;
            autoindex_format json;
            auth_basic "headend";
            auth_basic_user_file {prefix}/htpasswd;
        }}
        location /bearer/ {{
            alias {root}/;
            dav_methods PUT DELETE MOVE;
            {dav_ext}
            create_full_put_path on;
            autoindex on;
            autoindex_format json;
            if ($http_authorization != "Bearer {token}") {{ return 401; }}
        }}
    }}
}}
"""


class Request(NamedTuple):
    method: str
    uri: str
    status: int
    up: int  # bytes of the whole request, headers included ($request_length)
    down: int  # bytes of the whole answer ($bytes_sent)


class Nginx:
    """One nginx serving ``root`` on 127.0.0.1; ``stop``/``start`` simulate a headend outage."""

    def __init__(self, prefix: Path, root: Path, *, tls: tuple[Path, Path] | None = None) -> None:
        self.prefix, self.root = prefix, root
        self.port = free_port()
        prefix.mkdir(parents=True, exist_ok=True)
        root.mkdir(parents=True, exist_ok=True)
        (prefix / "htpasswd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        dav_ext = "dav_ext_methods PROPFIND OPTIONS;" if DAV_EXT.exists() else ""
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(
            NGINX_CONF.format(
                prefix=prefix, root=root, port=self.port, token=TOKEN, dav_ext=dav_ext,
                load_module=f"load_module {DAV_EXT};" if DAV_EXT.exists() else "",
                ssl=" ssl" if tls else "", tls=f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else "",
            )
        )  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.scheme = "https" if tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def start(self) -> Nginx:
        self.proc = subprocess.Popen(
            [NGINX, "-e", str(self.prefix / "error.log"), "-c", str(self.conf), "-p", str(self.prefix)], stderr=subprocess.PIPE
        )
        try:
            wait_port(self.port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"nginx did not start: {(self.prefix / 'error.log').read_text()[-2000:]}") from None
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
            wait_port(self.port, up=False)

    def requests(self) -> list[Request]:
        """Every request so far, as nginx logged it."""
        out = []
        for line in self.access_log.read_text().splitlines():
            m, uri, status, up, down = line.split(" ")
            out.append(Request(m, uri, int(status), int(up), int(down)))
        return out


DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx-webdav.conf"

DEPLOY_MAIN = """\
daemon off;
master_process on;
worker_processes 1;
user root;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{load_module}
events {{ worker_connections 256; }}
http {{
    log_format tvp '$request_method $uri $status $request_length $bytes_sent';
    access_log {prefix}/access.log tvp;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""


class DeployNginx(Nginx):
    """nginx running ``deploy/nginx-webdav.conf`` as shipped, but for its paths and port
    (``/srv/headend`` becomes a temporary folder, port 8080 a free loopback port)."""

    def __init__(self, prefix: Path, srv: Path) -> None:
        super().__init__(prefix, srv / "channel")
        site = DEPLOY_CONF.read_text(encoding="utf-8")
        for old, new in (("/srv/headend", str(srv)), ("/etc/nginx/tvpusher.htpasswd", str(prefix / "htpasswd")),
                         ("listen 8080;", f"listen 127.0.0.1:{self.port};")):  # fmt: skip
            assert old in site, f"{old} no longer in {DEPLOY_CONF.name}"
            site = site.replace(old, new)
        (srv / ".tmp").mkdir(parents=True, exist_ok=True)
        (prefix / "site.conf").write_text(site, encoding="utf-8")
        self.conf.write_text(
            DEPLOY_MAIN.format(prefix=prefix, site=prefix / "site.conf", load_module=f"load_module {DAV_EXT};" if DAV_EXT.exists() else "")
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/channel/"


class Ftp:
    """A pyftpdlib server in a thread; FTPS (explicit, TLS required) with a certificate."""

    def __init__(self, root: Path, *, tls: tuple[Path, Path] | None = None) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer

        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)  # its start-up chatter outlives pytest's capture
        auth = DummyAuthorizer()
        auth.add_user(USER, PASSWORD, str(root), perm="elradfmwMT")
        handler: Any
        if tls:
            handler = type("Tls", (TLS_FTPHandler,), {})
            handler.certfile, handler.keyfile = str(tls[0]), str(tls[1])
            handler.tls_control_required = handler.tls_data_required = True
        else:
            handler = type("Plain", (FTPHandler,), {})
        handler.authorizer = auth
        handler.banner = "test headend"
        self.server = ThreadedFTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.05}, daemon=True)

    def start(self) -> Ftp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.close_all()
        self._thread.join(timeout=5)


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


# -- a channel without rendering -----------------------------------------------------------------


def page_bytes(seed: str, size: int = 3000) -> bytes:
    """Deterministic bytes that stand in for a page image (targets do not look inside)."""
    rng = random.Random(seed)
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(size - 8)


def make_runtime(workdir: Path, targets: list[dict[str, Any]]) -> Runtime:
    return Runtime(parse_settings({"channel": {"workdir": str(workdir), "profile": "sd"}, "targets": targets}, workdir))


@dataclass
class Channel:
    """Items with their page bytes; ``publish`` makes a channel version and queues deliveries
    the way :func:`pusher.stages.publish.publish` does."""

    rt: Runtime
    items: dict[str, list[bytes]] = field(default_factory=dict)

    def set(self, iid: str, *pages: bytes) -> None:
        self.items[iid] = list(pages)

    def publish(self) -> ChannelVersion:
        rt = self.rt
        ids = sorted(self.items)
        menu = page_bytes("menu:" + ",".join(ids), 2000)

        def ref(pid: str, data: bytes) -> PageRef:
            sha = rt.assets.put(data)
            return PageRef(pid, sha, len(data), 720, 576)

        items = tuple(
            ItemSpec(id=iid, column="c1", version=1, title=f"通知 {iid}", url=f"http://portal.example/{iid}.html",
                     pages=tuple(ref(f"{iid}-{n + 1}", d) for n, d in enumerate(self.items[iid])))
            for iid in ids
        )  # fmt: skip
        home = (ref("home-1", page_bytes("home", 2000)),)
        spec = ChannelSpec("测试频道", "sd", 720, 576, home, (ColumnSpec("c1", "通知公告", None, len(ids), (ref("c-c1-1", menu),)),), items)
        now = utcnow()
        with rt.store.write() as db:
            from sqlalchemy import func
            from sqlmodel import select

            number = (db.exec(select(func.max(ChannelVersion.version))).one() or 0) + 1
            manifest = build_manifest(spec, number, datetime.now(UTC))
            assets = spec.assets()
            cv = ChannelVersion(
                version=number, created_at=now, digest=hashlib.sha256(manifest).hexdigest(), manifest=manifest.decode(),
                assets=json.dumps(sorted(assets.items())), items=len(items), pages=len(spec.pages()), bytes=sum(assets.values()),
            )  # fmt: skip
            db.add(cv)
            for t in rt.settings.targets:
                if t.enabled:
                    db.exec(update(Delivery).where(Delivery.target == t.name, Delivery.state == "pending").values(state="superseded"))  # type: ignore[arg-type]
                    db.add(Delivery(target=t.name, channel_version=number, next_attempt_at=now, created_at=now))
        return cv


def check_headend(read: Any, names: list[str], *, version: int | None = None) -> int | None:
    """The promise a box relies on: if there is a channel.xml, every asset it references is
    there, complete, with the stated sha256; and no file under ``assets/`` is partial (its
    name is its hash). Returns the manifest's version (None if there is no manifest)."""
    from feeds.channel import manifest_version

    for name in names:
        data = read(name)
        sha = name.removeprefix("assets/").rsplit(".", 1)[0]
        assert data is not None and hashlib.sha256(data).hexdigest() == sha, f"{name} on the headend is not what its name says"
    manifest = read("channel.xml")
    if manifest is None:
        assert version is None, "no channel.xml on the headend"
        return None
    for href, (sha, size) in manifest_tree(manifest, read).items():  # through the column manifests
        data = read(href)
        assert data is not None, f"channel.xml references {href}, which is missing"
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha, f"{href} is incomplete or corrupt"
    got = manifest_version(manifest)
    if version is not None:
        assert got == version, f"the headend shows version {got}, expected {version}"
    return got


def folder_assets(root: Path) -> list[str]:
    d = root / "assets"
    return sorted(f"assets/{p.name}" for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []


def race_two_deliverers(rt: Runtime, target: str = "drop", items: int = 30) -> list[str]:
    """Publishes a channel and lets two threads deliver it to ``target`` at once; their statuses."""
    import threading

    from pusher.stages.outbox import deliver_one

    ch = Channel(rt)
    for i in range(items):
        ch.set(f"i{i}", page_bytes(f"i{i}", 20_000))
    ch.publish()
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(deliver_one(rt, target, only_due=False).status)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
