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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator, model_validator

from pusher.config.http import HttpSettings
from pusher.errors import ParseError, TargetError, VerifyError
from pusher.targets.base import TargetOptions, check_name

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
        auth: httpx.Auth | None = None
        # identity: httpx would inflate a gzip answer before the cap could count it.
        headers = {"User-Agent": "tvpusher/0.1", "Accept-Encoding": "identity"}
        if options.token.get_secret_value():
            headers["Authorization"] = f"Bearer {options.token.get_secret_value()}"
        elif options.username:
            auth = httpx.BasicAuth(options.username, options.password.get_secret_value())
        verify: bool | str = str(options.ca_file) if options.ca_file and options.verify_tls else options.verify_tls
        self._client = httpx.Client(
            auth=auth, headers=headers, verify=verify, timeout=httpx.Timeout(options.timeout), follow_redirects=False,
            limits=httpx.Limits(max_connections=options.connections + 1, max_keepalive_connections=options.connections + 1),
        )  # fmt: skip

    # -- the Target protocol ------------------------------------------------------------------

    def put(self, name: str, data: bytes) -> None:
        self._put(check_name(name, self.name), data)
        self._verify(name, data, self.options.verify)

    def publish_manifest(self, data: bytes, name: str = "channel.xml") -> None:
        check_name(name, self.name)
        tmp = f".{name}.tmp"
        self._put(tmp, data)
        self._verify(tmp, data, "sha256")  # small, and the one file a box reads first
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
        self._client.close()

    # -- HTTP ---------------------------------------------------------------------------------

    def _url(self, name: str) -> str:
        return self.base + quote(name)

    def _request(
        self, method: str, name: str, *, content: bytes | None = None, headers: dict[str, str] | None = None,
        cap: int | None = None, sink: Callable[[bytes], Any] | None = None,
    ) -> _Answer:  # fmt: skip
        """One request, its answer read under ``cap`` bytes (``max_bytes`` unless given): past
        it a TargetError, or with a ``sink`` (which gets a 200 answer's body as it arrives,
        nothing kept) the reading stops and ``size`` says more came than the cap."""
        deadline = time.monotonic() + self.options.deadline
        limit = self.options.max_bytes if cap is None else cap
        hdrs = dict(headers or {})
        body: Iterator[bytes] | None = None
        if content is not None:
            hdrs["Content-Length"] = str(len(content))
            body = _chunks(content, deadline, self.name, name)
        buf = bytearray()
        size = 0
        try:
            req = self._client.build_request(method, self._url(name), content=body, headers=hdrs)
            resp = self._client.send(req, stream=True)
            try:
                feed = sink if sink is not None and resp.status_code == 200 else None
                encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    raise TargetError(f"{method} {name}: answered with Content-Encoding {encoding!r}, identity was asked", target=self.name)
                declared = resp.headers.get("Content-Length", "")
                if method != "HEAD" and feed is None and declared.isdigit() and int(declared) > limit:
                    raise TargetError(f"{method} {name}: answer of {int(declared)} bytes exceeds the cap of {limit}", target=self.name)
                for part in resp.iter_raw():  # as it arrives: a chunk_size would wait for 64 KB past the deadline
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
                        raise TargetError(f"{method} {name}: no complete answer within {self.options.deadline:g} s", target=self.name)
            finally:
                resp.close()
        except httpx.HTTPError as exc:
            # httpx messages carry the URL but never the credentials (those are headers).
            raise TargetError(f"{method} {name}: {type(exc).__name__}: {exc}", target=self.name) from None
        if resp.status_code in (401, 403):
            raise TargetError(f"{method} {name}: access refused ({resp.status_code}); check the credentials", target=self.name)
        return _Answer(resp.status_code, resp.headers, bytes(buf), size)

    def _put(self, name: str, data: bytes) -> None:
        r = self._request("PUT", name, content=data)
        if r.status not in (200, 201, 204):
            raise TargetError(f"PUT {name} answered {r.status}", target=self.name)

    def _verify(self, name: str, data: bytes, how: str) -> None:
        if how == "listing":
            return  # the outbox lists every size before it switches the manifest
        if how == "sha256":
            # Hashed as it arrives and cut off past the size sent: a headend answering more
            # (or gigabytes) costs a chunk of memory, not the answer.
            h = hashlib.sha256()
            r = self._request("GET", name, cap=len(data), sink=h.update)
            ok = r.status == 200 and r.size == len(data) and h.digest() == hashlib.sha256(data).digest()
            if r.status != 200:
                detail = "missing" if r.status == 404 else f"GET answered {r.status}"
            elif r.size > len(data):
                detail = f"more than {len(data)} bytes"
            else:
                detail = f"{r.size} bytes with another sha256"
        else:
            r = self._request("HEAD", name)
            size = r.headers.get("Content-Length")
            ok = r.status == 200 and size == str(len(data))
            detail = f"HEAD answered {r.status}, Content-Length {size}"
        if not ok:
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
    headers: httpx.Headers
    body: bytes
    size: int = 0  # bytes of the answer read (given to the sink, with one)


def _chunks(data: bytes, deadline: float, target: str, name: str) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        if time.monotonic() > deadline:
            raise TargetError(f"PUT {name}: upload not done within the deadline", target=target)
        yield bytes(view[start : start + CHUNK])
