"""An HTTP/WebDAV headend (nginx ``dav_methods PUT DELETE MOVE`` and the like).

Each asset is ``PUT`` under its content-hash name and verified (a read-back of the whole file
with ``verify = "sha256"``, ``HEAD`` for its size, or one listing of every size before the
manifest with ``verify = "listing"``); a server that writes request bodies to a temporary
file and renames it when complete (nginx does) never shows a partial asset. The manifest is
``PUT`` to a temporary name, read back, then ``MOVE``\\d over ``channel.xml``, so the switch is
one rename on the server. Listings use ``PROPFIND`` (nginx's dav-ext module) or nginx's JSON
autoindex.

Every request has a socket timeout and an overall deadline: a headend that trickles bytes
cannot hold a delivery forever. Answers are read as a stream under a byte cap (``max_bytes``, by
default the portal client's ``http.max_bytes``), never decompressed (``Accept-Encoding:
identity``), and a read-back is hashed as it arrives: a headend answering gigabytes costs a
chunk of memory, not the answer (issue 15: a 2 GB PROPFIND took 4.3 GB). An answer that is not
what WebDAV or nginx would send (a size that is not a number, a JSON listing that is not a list)
is a :class:`~pusher.errors.TargetError`, like any other failure of the headend. Credentials come from the config (``"${VAR}"`` for the
environment) and never appear in errors or logs.

Issue 19: the client, not nginx or the wire, bounded a push — httpx spent about 0.9 ms of CPU
per request (0.25 ms with the standard library's ``http.client``), and a verified page cost two
round trips, PUT then GET. Requests go over :mod:`pusher.targets.http1` connections kept alive
for the life of the target object, one per uploading thread (``connections`` of them: the
outbox's uploads at once); a kept-alive connection that the server closed meanwhile is opened
again and the request sent once more (every request here is idempotent). With ``verify =
"sha256"`` the GET that reads a page back leaves in the same write as its PUT (pipelined: one
round trip, and the server answers it only once the PUT is complete), so every byte is still
read back, at the cost of the download rather than of a wait. nginx creates ``assets/`` itself
(``create_full_put_path``), so there is no MKCOL, and with ``verify = "listing"`` no request but
the PUT per asset.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from pusher.config.http import HttpSettings
from pusher.errors import ParseError, TargetError, VerifyError
from pusher.targets.base import TargetOptions, check_name
from pusher.targets.http1 import Connection, Head, Overdue

CHUNK = 64 * 1024  # upload chunk; the deadline is checked between chunks
# Ask for sizes only: half the bytes of an allprop listing, which matters at thousands of pages.
PROPFIND_SIZES = b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/></D:prop></D:propfind>'


class WebDavOptions(TargetOptions):
    url: str  # the channel's folder on the headend, e.g. https://headend.example/channel/
    username: str = ""
    password: SecretStr = SecretStr("")
    token: SecretStr = SecretStr("")  # Bearer token; wins over username/password
    verify_tls: bool = True
    ca_file: Path | None = None
    timeout: float = Field(default=30.0, gt=0)  # per socket operation
    deadline: float = Field(default=300.0, gt=0)  # per request, whole request
    # How an asset is checked after PUT: read back whole, HEAD for its size, or (``listing``)
    # by the one PROPFIND of every size the outbox makes before the manifest (needs precheck).
    verify: Literal["size", "sha256", "listing"] = "sha256"
    listing: Literal["propfind", "json"] = "propfind"  # nginx dav-ext PROPFIND, or autoindex_format json
    connections: int = Field(default=4, ge=1, le=16)  # uploads at once
    # The largest answer read (a listing, channel.xml, `pusher verify --deep`); the read-back
    # of a put is bounded by the size sent. A PROPFIND costs about 400 bytes per asset.
    max_bytes: int = Field(default=HttpSettings.model_fields["max_bytes"].default, gt=0)

    @model_validator(mode="after")
    def _listing_needs_precheck(self) -> WebDavOptions:
        if self.verify == "listing" and not self.precheck:
            raise ValueError('verify = "listing" relies on precheck = true')
        return self

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        if parts.username or parts.password:
            raise ValueError("put credentials in username/password or token, not in the URL")
        return v if v.endswith("/") else v + "/"


class WebDavTarget:
    def __init__(self, name: str, options: WebDavOptions) -> None:
        self.name = name
        self.options = options
        self.concurrency = options.connections
        self.base = options.url
        parts = urlsplit(options.url)
        self._host, self._port, self._root = parts.hostname or "", parts.port, parts.path
        # identity: a compressed answer would be inflated before the cap could count it.
        self._headers = {"User-Agent": "tvpusher/0.1", "Accept-Encoding": "identity"}
        if options.token.get_secret_value():
            self._headers["Authorization"] = f"Bearer {options.token.get_secret_value()}"
        elif options.username:
            pair = f"{options.username}:{options.password.get_secret_value()}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        self._tls: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._tls = ssl.create_default_context(cafile=str(options.ca_file) if options.ca_file and options.verify_tls else None)
            if not options.verify_tls:
                self._tls.check_hostname = False
                self._tls.verify_mode = ssl.CERT_NONE
        self._local = threading.local()  # each uploading thread's kept-alive connection
        self._open: list[Connection] = []
        self._guard = threading.Lock()

    # -- the Target protocol ------------------------------------------------------------------

    def put(self, name: str, data: bytes) -> None:
        check_name(name, self.name)
        if self.options.verify == "sha256":
            self._put_read_back(name, data)
        else:
            self._put(name, data)
            self._verify(name, data, self.options.verify)

    def publish_manifest(self, data: bytes, name: str = "channel.xml") -> None:
        check_name(name, self.name)
        tmp = f".{name}.tmp"
        self._put_read_back(tmp, data)  # small, and the one file a box reads first
        r = self._request("MOVE", tmp, headers={"Destination": self._url(name), "Overwrite": "T"})
        if r.status not in (201, 204):
            raise TargetError(f"MOVE {tmp} → {name} answered {r.status}", target=self.name)
        self._verify(name, data, "size")

    def list_assets(self) -> dict[str, int]:
        if self.options.listing == "json":
            return self._list_json()
        return self._list_propfind()

    def read(self, name: str) -> bytes | None:
        r = self._request("GET", check_name(name, self.name))
        if r.status == 404:
            return None
        if r.status != 200:
            raise TargetError(f"GET {name} answered {r.status}", target=self.name)
        return r.body

    def delete(self, name: str) -> None:
        r = self._request("DELETE", check_name(name, self.name))
        if r.status not in (200, 204, 404):
            raise TargetError(f"DELETE {name} answered {r.status}", target=self.name)

    def close(self) -> None:
        with self._guard:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()

    # -- HTTP ---------------------------------------------------------------------------------

    def _url(self, name: str) -> str:
        return self.base + quote(name)

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = Connection(self._host, self._port, timeout=self.options.timeout, tls=self._tls)
            self._local.conn = conn
            with self._guard:
                self._open.append(conn)
        return conn

    def _discard(self, conn: Connection) -> None:
        """Closes a connection left in an unknown state; this thread's next request opens one."""
        conn.close()
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._guard, contextlib.suppress(ValueError):
            self._open.remove(conn)

    def _head(self, method: str, name: str, hdrs: dict[str, str], length: int | None, host: str) -> bytes:
        lines = [f"{method} {self._root}{quote(name)} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in hdrs.items()]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _request(
        self, method: str, name: str, *, content: bytes | None = None, headers: dict[str, str] | None = None,
        cap: int | None = None, sink: Callable[[bytes], Any] | None = None, read_back: Callable[[bytes], Any] | None = None,
    ) -> _Answer:  # fmt: skip
        """One request, its answer read under ``cap`` bytes (``max_bytes`` unless given): past
        it a TargetError, or with a ``sink`` (which gets a 200 answer's body as it arrives,
        nothing kept) the reading stops and ``size`` says more came than the cap.

        With ``read_back``, a ``GET`` of the same name follows the request on its connection,
        sent with it when the connection is known to be kept alive (pipelined: one round trip
        for both), else once its answer is read; the GET's body goes to ``read_back`` under a
        cap of the size sent, and its answer is the returned answer's ``back``."""
        deadline = time.monotonic() + self.options.deadline
        limit = self.options.max_bytes if cap is None else cap
        hdrs = {**self._headers, **(headers or {})}
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None and conn.answered > 0
            # A server that has kept this connection alive takes the GET behind the request;
            # on a new connection we do not know yet (an HTTP/1.0 server closes after one).
            piped = read_back is not None and reused
            try:
                self._send(conn, method, name, hdrs, content, deadline, then_get=piped)
                head = conn.head(method, deadline)
            except ConnectionError as exc:
                self._discard(conn)
                if reused and attempt == 1:
                    continue  # the server closed the kept-alive connection meanwhile: once more on a new one
                raise self._error(method, name, exc) from None
            except TargetError:
                self._discard(conn)
                raise
            except OSError as exc:
                self._discard(conn)
                # The messages carry the host but never the credentials (those are headers).
                raise self._error(method, name, exc) from None
            break
        try:
            answer = self._answer(conn, head, method, name, limit, sink, deadline)
        except TargetError:
            if piped:
                self._discard(conn)  # the GET's answer is still to come: it must not pass for the next one's
            raise
        if read_back is None:
            return answer
        if answer.status not in (200, 201, 204):
            if piped:
                self._discard(conn)
            return answer
        back = self._back(name, read_back, len(content or b""), deadline, piped)
        return _Answer(answer.status, answer.headers, answer.body, answer.size, back)

    def _back(self, name: str, sink: Callable[[bytes], Any], cap: int, deadline: float, piped: bool) -> _Answer:
        """The answer of the GET behind a request: sent with it if ``piped`` (unless the server
        closed the connection after the request's answer), else sent now."""
        for attempt in (1, 2):
            conn = self._connection()
            sent = piped and attempt == 1 and conn.sock is not None
            reused = conn.sock is not None and conn.answered > 0
            try:
                if not sent:
                    self._send(conn, "GET", name, self._headers, None, deadline)
                head = conn.head("GET", deadline)
            except ConnectionError as exc:
                self._discard(conn)
                # The server closed the connection after the request's answer without saying
                # so, or meanwhile: the GET once more, on a new one.
                if attempt == 1 and (sent or reused):
                    continue
                raise self._error("GET", name, exc) from None
            except OSError as exc:
                self._discard(conn)
                raise self._error("GET", name, exc) from None
            return self._answer(conn, head, "GET", name, cap, sink, deadline)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _send(
        self, conn: Connection, method: str, name: str, hdrs: dict[str, str], content: bytes | None, deadline: float,
        *, then_get: bool = False,
    ) -> None:  # fmt: skip
        """The request in as few writes as it fits (one for a page and its read-back GET)."""
        head = self._head(method, name, hdrs, None if content is None else len(content), conn.host_header)
        tail = self._head("GET", name, self._headers, None, conn.host_header) if then_get else b""
        if content is None or len(content) <= CHUNK:
            parts = [content] if content else []
            conn.send(b"".join([head, *parts, tail]))
            return
        conn.send(head)
        for part in _chunks(content, deadline, self.name, name):
            conn.send(part)
        if tail:
            conn.send(tail)

    def _error(self, method: str, name: str, exc: BaseException) -> TargetError:
        if isinstance(exc, Overdue):
            return TargetError(f"{method} {name}: no complete answer within {self.options.deadline:g} s", target=self.name)
        return TargetError(f"{method} {name}: {type(exc).__name__}: {exc}", target=self.name)

    def _answer(
        self, conn: Connection, head: Head, method: str, name: str, limit: int, sink: Callable[[bytes], Any] | None,
        deadline: float,
    ) -> _Answer:  # fmt: skip
        buf = bytearray()
        size = 0
        whole = False  # read to its end: the connection can carry the next request
        try:
            feed = sink if sink is not None and head.status == 200 else None
            encoding = head.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise TargetError(f"{method} {name}: answered with Content-Encoding {encoding!r}, identity was asked", target=self.name)
            if feed is None and head.length is not None and head.length > limit:
                raise TargetError(f"{method} {name}: answer of {head.length} bytes exceeds the cap of {limit}", target=self.name)
            for part in conn.body(head, deadline):
                size += len(part)
                if size > limit:
                    if feed is not None:
                        break  # the caller sees size > cap: not the file it sent
                    raise TargetError(f"{method} {name}: answer exceeds the cap of {limit} bytes", target=self.name)
                if feed is not None:
                    feed(part)
                else:
                    buf += part
                if time.monotonic() > deadline:
                    raise Overdue("the deadline passed")
            else:
                whole = True
        except OSError as exc:
            raise self._error(method, name, exc) from None
        finally:
            if not whole:
                self._discard(conn)
        if head.status in (401, 403):
            raise TargetError(f"{method} {name}: access refused ({head.status}); check the credentials", target=self.name)
        return _Answer(head.status, head.headers, bytes(buf), size)

    def _put(self, name: str, data: bytes) -> None:
        r = self._request("PUT", name, content=data)
        if r.status not in (200, 201, 204):
            raise TargetError(f"PUT {name} answered {r.status}", target=self.name)

    def _put_read_back(self, name: str, data: bytes) -> None:
        """PUT, then every byte read back by a GET that leaves with it (pipelined on a
        kept-alive connection: the server answers it once the PUT is complete, so it reads
        what the PUT stored). Hashed as it arrives and cut off past the size sent: a headend
        answering more (or gigabytes) costs a chunk of memory, not the answer."""
        h = hashlib.sha256()
        r = self._request("PUT", name, content=data, read_back=h.update)
        if r.status not in (200, 201, 204):
            raise TargetError(f"PUT {name} answered {r.status}", target=self.name)
        back = r.back
        assert back is not None  # a PUT that succeeded has its read-back's answer
        if back.status == 200 and back.size == len(data) and h.digest() == hashlib.sha256(data).digest():
            return
        if back.status != 200:
            detail = "missing" if back.status == 404 else f"GET answered {back.status}"
        elif back.size > len(data):
            detail = f"more than {len(data)} bytes"
        else:
            detail = f"{back.size} bytes with another sha256"
        self._refuse(name, data, detail)

    def _verify(self, name: str, data: bytes, how: str) -> None:
        if how == "listing":
            return  # the outbox lists every size before it switches the manifest
        r = self._request("HEAD", name)
        size = r.headers.get("content-length")
        if not (r.status == 200 and size == str(len(data))):
            self._refuse(name, data, f"HEAD answered {r.status}, Content-Length {size}")

    def _refuse(self, name: str, data: bytes, detail: str) -> None:
        # A wrong file under a content-hash name would be trusted forever: remove it.
        with contextlib.suppress(TargetError):
            self.delete(name)
        raise VerifyError(f"{name} did not arrive intact ({detail}; sent {len(data)} bytes)", target=self.name)

    def _list_propfind(self) -> dict[str, int]:
        from feeds.xmlsafe import parse_xml

        r = self._request("PROPFIND", "assets/", content=PROPFIND_SIZES, headers={"Depth": "1", "Content-Type": "application/xml"})
        if r.status == 404:
            return {}
        if r.status != 207:
            raise TargetError(f"PROPFIND assets/ answered {r.status} (is the dav-ext module loaded?)", target=self.name)
        try:
            root = parse_xml(r.body, url=self._url("assets/"))
        except ParseError as exc:
            raise TargetError(f"PROPFIND assets/: {exc}", target=self.name) from None
        ns = "{DAV:}"
        out: dict[str, int] = {}
        for resp in root.iter(f"{ns}response"):
            href = unquote(urlsplit(resp.findtext(f"{ns}href") or "").path)
            size = resp.findtext(f".//{ns}getcontentlength")
            parent, _, leaf = href.rpartition("/")
            # Depth 1 lists the folder's own files; a deeper href (…/assets/sub/x.png) is not
            # assets/x.png, whatever its last segment says.
            if size is not None and leaf and not leaf.startswith(".") and parent.rsplit("/", 1)[-1] == "assets":
                out[f"assets/{leaf}"] = self._size(size, f"PROPFIND assets/: getcontentlength of {leaf!r}")
        return out

    def _list_json(self) -> dict[str, int]:
        r = self._request("GET", "assets/")
        if r.status == 404:
            return {}
        if r.status != 200:
            raise TargetError(f"GET assets/ answered {r.status}", target=self.name)
        what = "GET assets/ is not a JSON listing (autoindex_format json)"
        try:
            entries = json.loads(r.body)
        except ValueError:
            raise TargetError(what, target=self.name) from None
        if not isinstance(entries, list):
            raise TargetError(f"{what}: a {type(entries).__name__}, not a list", target=self.name)
        out: dict[str, int] = {}
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("name"), str):
                raise TargetError(f"{what}: an entry without a name: {str(e)[:80]!r}", target=self.name)
            if e.get("type") == "file" and not e["name"].startswith("."):
                out[f"assets/{e['name']}"] = self._size(e.get("size"), f"GET assets/: size of {e['name']!r}")
        return out

    def _size(self, value: object, what: str) -> int:
        """A listed size: digits only (``int`` also takes "1_2" and "-5", and raised on "12abc")."""
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
        # Up to 18 digits: past Python's 4300 the int() itself raises (a ValueError, not ours).
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            raise TargetError(f"{what} is not a size: {str(value)[:40]!r}", target=self.name)
        return int(text)


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes
    size: int = 0  # bytes of the answer read (given to the sink, with one)
    back: _Answer | None = None  # the answer of the GET behind the request (``read_back``)


def _chunks(data: bytes, deadline: float, target: str, name: str) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        if time.monotonic() > deadline:
            raise TargetError(f"PUT {name}: upload not done within the deadline", target=target)
        yield bytes(view[start : start + CHUNK])
