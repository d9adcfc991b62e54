"""systemd's notify protocol: one datagram of ``KEY=VALUE`` lines to ``$NOTIFY_SOCKET``.

No dependency (the protocol is a single ``sendto``). A socket path starting with ``@`` is in the
abstract namespace. Outside systemd (no ``$NOTIFY_SOCKET``) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("tvpusher.notify")


def _address(raw: str) -> str | bytes:
    return "\0" + raw[1:] if raw.startswith("@") else raw


def notify(*lines: str) -> bool:
    """Sends ``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``, ``STATUS=…``; True if it was sent."""
    raw = os.environ.get("NOTIFY_SOCKET", "")
    if not raw or raw[0] not in "/@":
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            # A listener that stops reading fills its queue (ten datagrams on Linux), and a
            # blocking send then hung the signal handler's STOPPING=1: SIGTERM never drained.
            sock.settimeout(1.0)
            sock.connect(_address(raw))
            sock.sendall("\n".join(lines).encode("utf-8"))
    except OSError as exc:  # systemd gone or the socket unreachable: the service still runs
        log.warning("cannot notify systemd at %s: %s", raw, exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds within which systemd expects ``WATCHDOG=1`` (``$WATCHDOG_USEC``), if it watches us."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid.isdigit() and int(pid) != os.getpid()):
        return None
    return int(usec) / 1_000_000
