"""Logging: one line per event, plain text or JSON lines (``--log-json``), never a secret.

Every line passes through :func:`redact` after it is formatted (message, extras and traceback
alike): passwords, tokens, ``Authorization`` headers, credentials in URLs, and every secret-looking
value of the configuration (target and source options named like ``password`` or ``token``, the
database password) become ``***``. ``pusher status`` uses the same function.

Item state changes are logged once each, after their transaction commits, by a listener on the
store's sessions (:func:`pusher.store.transitions.install_transition_events`): ``item 12 (source notices) screened → rendered``
with ``item``, ``source``, ``from``, ``state`` and ``version`` as fields.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

_STD = set(vars(logging.makeLogRecord({})))

SECRET_KEYS = re.compile(r"pass(word|wd|phrase)?|pwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|auth|credential|cookie",
                         re.IGNORECASE)  # fmt: skip
_PATTERNS = [
    # Authorization: Basic xxx / Bearer xxx, and their dict or JSON forms
    (re.compile(r"(?i)((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)(?:(basic|bearer|digest|token)\s+)?[^\s'\",;}]+"),
     lambda m: f"{m.group(1)}{(m.group(2) + ' ') if m.group(2) else ''}***"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}"), lambda m: f"{m.group(1)} ***"),
    # password=…, "token": "…", api_key: …
    (re.compile(r"(?i)\b((?:[a-z_]*_)?(?:pass(?:word|wd|phrase)?|pwd|token|secret|api[_-]?key|access[_-]?key)['\"]?\s*[:=]\s*['\"]?)"
                r"([^\s'\",;&}]+)"),
     lambda m: f"{m.group(1)}***"),
    # scheme://user:password@host — up to the last "@" before the path: a password with "@" in
    # it (p@ss@word) was masked only up to its first one, and its tail went out.
    (re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^/\s:@]*):[^\s/'\"<>]*@"), lambda m: f"{m.group(1)}:***@"),
]  # fmt: skip

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def add_secret(value: str) -> None:
    """Masks ``value`` (and its JSON-escaped form) in every later log line and status output."""
    if len(value) >= 4:
        with _secrets_lock:
            _secrets.update({value, json.dumps(value, ensure_ascii=False)[1:-1]})


def register_secrets(settings: Any) -> None:
    """Collects the secret-looking values of a :class:`pusher.config.settings.Settings`."""
    for group in (settings.sources, settings.targets):
        for s in group:
            for v in _secret_values(s.options):
                add_secret(v)
    from urllib.parse import unquote, urlsplit

    from sqlalchemy.engine import make_url

    url = settings.channel.database_url
    try:
        pw = make_url(url).password
    except Exception:  # not a URL SQLAlchemy knows: nothing to mask
        pw = None
    if pw:
        add_secret(str(pw))
    # SQLAlchemy ends the password at its first "@" and takes the rest for the host, which a
    # driver then names ("failed to resolve host 'ss@word@db'"): the whole of what stands before
    # the last "@" is masked, and so is each tail of it after an "@".
    try:
        raw = urlsplit(url).password
    except ValueError:
        raw = None
    for whole in {raw, unquote(raw)} if raw else ():
        parts = whole.split("@")
        for n in range(len(parts)):
            add_secret("@".join(parts[n:]))


def _secret_values(options: Mapping[str, Any], secret: bool = False) -> Iterable[str]:
    for k, v in options.items():
        hit = secret or bool(SECRET_KEYS.search(str(k)))
        if isinstance(v, Mapping):
            yield from _secret_values(v, hit)
        elif isinstance(v, list | tuple):
            yield from (str(x) for x in v if hit and isinstance(x, str | int))
        elif hit and isinstance(v, str | int) and not isinstance(v, bool):
            yield str(v)


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for s in known:
        if s in text:
            text = text.replace(s, "***")
    return text


class RedactingFormatter(logging.Formatter):
    """Wraps any formatter and redacts what it produced (after the traceback is added)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


#: The channel's time zone: log times are written in it, with the offset, as ``status`` shows
#: them (a server's clock is often UTC while the operators read +08:00). None: the OS zone.
_zone: Any = None


def set_timezone(tz: str) -> None:
    global _zone
    from zoneinfo import ZoneInfo

    _zone = ZoneInfo(tz)


class LocalFormatter(logging.Formatter):
    """Times in the channel's zone with the offset: ``2026-11-28T08:00:00.123+08:00``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        from datetime import datetime

        at = datetime.fromtimestamp(record.created, _zone) if _zone else datetime.fromtimestamp(record.created).astimezone()
        return at.isoformat(timespec="milliseconds")


class JsonFormatter(LocalFormatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STD and not k.startswith("_")})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class NodeFilter(logging.Filter):
    """Stamps every record with the node's name, so that the logs of a cluster can be merged."""

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "node"):
            record.node = self.node
        return True


def setup(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    inner = JsonFormatter() if json_lines else LocalFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(RedactingFormatter(inner))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _CurrentStderr(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each record (a test's capture, a redirected CLI)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_cli(level: str = "WARNING") -> None:
    """Logging for a one-shot command: warnings and errors on stderr, one message a line,
    redacted like the daemon's. Nothing changes where handlers are installed already (pytest's;
    ``pusher run`` replaces them all with :func:`setup`)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = _CurrentStderr()
    handler.setLevel(level.upper())
    handler.setFormatter(RedactingFormatter(logging.Formatter("%(message)s")))  # as Python printed them before
    root.addHandler(handler)
    if root.level > logging.getLevelName(level.upper()) or root.level == logging.NOTSET:
        root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def set_node(node: str) -> None:
    for h in logging.getLogger().handlers:
        for f in list(h.filters):
            if isinstance(f, NodeFilter):
                h.removeFilter(f)
        h.addFilter(NodeFilter(node))
