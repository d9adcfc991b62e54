"""The HTTP client sources use: bounded in bytes and time, polite, and kept to known hosts.

httpx has no body limit and inflates gzip freely, so bodies are streamed and counted after
decompression (a gzip bomb stops at the cap). A per-request deadline covers the whole
exchange: a server that drips one byte a second is cut off even though no single read times
out. Redirects are followed by hand so that each hop is checked against the allowed hosts.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from pusher.config import HttpSettings
from pusher.errors import BodyTooLarge, FetchError
from pusher.interfaces import Response

REDIRECTS = {301, 302, 303, 307, 308}


class Http:
    """An :class:`pusher.interfaces.HttpClient` for one source (its name is in every error)."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        source: str = "",
        hosts: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.hosts = {h.lower() for h in hosts}
        self.requests = 0
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            transport=transport,
        )

    def allow_host(self, url: str) -> None:
        host = urlsplit(url).hostname
        if host:
            self.hosts.add(host.lower())

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        return self._request("GET", url, headers=headers)

    def post(self, url: str, data: Mapping[str, str], *, headers: Mapping[str, str] | None = None) -> Response:
        return self._request("POST", url, headers=headers, data=data)

    def _request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, data: Mapping[str, str] | None = None
    ) -> Response:
        deadline = time.monotonic() + self.settings.timeout
        for _hop in range(self.settings.max_redirects + 1):
            self._check_host(url)
            status, resp_headers, body = self._once(method, url, headers, data, deadline)
            if status in REDIRECTS and "location" in resp_headers:
                url = urljoin(url, resp_headers["location"])
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, data = "GET", None
                continue
            return Response(status=status, url=url, headers=resp_headers, body=body)
        raise FetchError(f"more than {self.settings.max_redirects} redirects", source=self.source, url=url)

    def _check_host(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"refusing {parts.scheme or 'relative'} URL", source=self.source, url=url)
        host = (parts.hostname or "").lower()
        if self.hosts and host not in self.hosts:
            raise FetchError(f"host {host} is not one the source allows", source=self.source, url=url)

    def _once(
        self, method: str, url: str, headers: Mapping[str, str] | None, data: Mapping[str, str] | None, deadline: float
    ) -> tuple[int, dict[str, str], bytes]:
        host = urlsplit(url).hostname or ""
        with _politeness.slot(host, self.settings.per_host, self.settings.delay):
            self.requests += 1
            try:
                with self._client.stream(method, url, headers=dict(headers or {}), data=data) as r:
                    cap = self.settings.max_bytes
                    declared = r.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > cap and "content-encoding" not in r.headers:
                        raise BodyTooLarge(f"body of {int(declared)} bytes exceeds the cap of {cap}", source=self.source, url=url)
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                        if size > cap:
                            raise BodyTooLarge(f"body exceeds the cap of {cap} bytes (after decompression)", source=self.source, url=url)
                        if time.monotonic() > deadline:
                            raise FetchError(f"no complete answer within {self.settings.timeout:g} s", source=self.source, url=url)
                        chunks.append(chunk)
                    return r.status_code, {k.lower(): v for k, v in r.headers.items()}, b"".join(chunks)
            except httpx.TimeoutException:
                raise FetchError(f"timed out after {self.settings.timeout:g} s", source=self.source, url=url) from None
            except httpx.DecodingError as exc:
                raise FetchError(f"cannot decode body: {exc}", source=self.source, url=url) from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}", source=self.source, url=url) from None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Politeness:
    """At most N requests at a time per host, and a pause between two starts, process-wide."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._last: dict[str, float] = defaultdict(float)

    def slot(self, host: str, per_host: int, delay: float) -> _Slot:
        with self._lock:
            sem = self._sems.setdefault(host, threading.BoundedSemaphore(per_host))
        return _Slot(self, host, sem, delay)


class _Slot:
    def __init__(self, owner: _Politeness, host: str, sem: threading.BoundedSemaphore, delay: float) -> None:
        self.owner, self.host, self.sem, self.delay = owner, host, sem, delay

    def __enter__(self) -> None:
        self.sem.acquire()
        with self.owner._lock:
            now = time.monotonic()
            start = max(now, self.owner._last[self.host] + self.delay)
            self.owner._last[self.host] = start
        if start > now:
            time.sleep(start - now)

    def __exit__(self, *exc: object) -> None:
        self.sem.release()


_politeness = _Politeness()
