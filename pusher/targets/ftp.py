"""An FTP or FTPS headend.

Each file is ``STOR``\\ed under a temporary name, its ``SIZE`` checked (and, with
``verify = "sha256"``, read back), then renamed over its final name with ``RNFR``/``RNTO``: a
reader of the folder never sees a partial file under a real name. One control connection
carries every command of a target object (a delivery); each transfer opens its data connection,
as FTP does. A transfer killed half-way leaves its ``.<leaf>.tmp`` behind: the listing of
``assets/`` each delivery makes removes those older than :data:`STALE_TMP` (a file is stored in
seconds; younger ones may be another process's upload in progress). With ``tls = true`` the
control and data connections are protected (explicit FTPS, ``AUTH TLS`` + ``PROT P``) and the
server's certificate is verified unless ``verify_tls = false``.
"""

from __future__ import annotations

import contextlib
import ftplib
import hashlib
import io
import re
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr

from pusher.errors import TargetError, VerifyError
from pusher.targets.base import TargetOptions, check_name

BLOCK = 32 * 1024
R = TypeVar("R")
STALE_TMP = 3600.0  # seconds: an upload's temporary file this old was left by a killed writer
_TMP = re.compile(r"^\.[A-Za-z0-9_.\-]+\.tmp$")


class FtpOptions(TargetOptions):
    host: str
    port: int = Field(default=21, gt=0, lt=65536)
    username: str = "anonymous"
    password: SecretStr = SecretStr("")
    directory: str = "/"  # the channel's folder on the server
    tls: bool = False  # explicit FTPS
    verify_tls: bool = True
    ca_file: Path | None = None
    passive: bool = True
    timeout: float = Field(default=30.0, gt=0)  # per socket operation
    deadline: float = Field(default=300.0, gt=0)  # per file transfer, whole transfer
    verify: Literal["size", "sha256"] = "size"


class FtpTarget:
    def __init__(self, name: str, options: FtpOptions) -> None:
        self.name = name
        self.options = options
        self.concurrency = 1  # one control connection, one transfer at a time
        self._ftp: ftplib.FTP | None = None
        self._dirs: set[str] = set()
        self.swept = 0  # killed uploads' temporary files removed

    # -- the Target protocol ------------------------------------------------------------------

    def put(self, name: str, data: bytes) -> None:
        check_name(name, self.name)
        folder, _, leaf = name.rpartition("/")
        self._store(f"{folder}/.{leaf}.tmp" if folder else f".{leaf}.tmp", data, final=name)

    def publish_manifest(self, data: bytes, name: str = "channel.xml") -> None:
        check_name(name, self.name)
        self._store(f".{name}.tmp", data, final=name, how="sha256")

    def list_assets(self) -> dict[str, int]:
        def listing(ftp: ftplib.FTP) -> dict[str, int]:
            try:
                entries = list(ftp.mlsd("assets", facts=["type", "size", "modify"]))
            except ftplib.error_perm:
                # Servers differ in the code for a missing folder (550, 501): look for it.
                try:
                    ftp.cwd("assets")
                except ftplib.error_perm:
                    return {}
                ftp.cwd("..")
                raise
            out: dict[str, int] = {}
            now = time.time()
            for n, f in entries:
                if f.get("type") == "file" and _TMP.fullmatch(n) and now - _modified(f.get("modify", "")) > STALE_TMP:
                    _quietly(ftp.delete, f"assets/{n}")  # best effort: the next listing tries again
                    self.swept += 1
                if f.get("type") != "file" or "size" not in f or n.startswith("."):
                    continue
                if not f["size"].isascii() or not f["size"].isdigit() or len(f["size"]) > 18:  # int() raised on "12abc"
                    raise TargetError(f"MLSD assets: the size of {n!r} is not a number: {f['size'][:40]!r}", target=self.name)
                out[f"assets/{n}"] = int(f["size"])
            return out

        return self._op("MLSD assets", listing)

    def read(self, name: str) -> bytes | None:
        check_name(name, self.name)

        def retr(ftp: ftplib.FTP) -> bytes | None:
            buf = io.BytesIO()
            try:
                ftp.retrbinary(f"RETR {name}", buf.write, blocksize=BLOCK)
            except ftplib.error_perm as exc:
                if str(exc).startswith("550"):
                    return None
                raise
            return buf.getvalue()

        return self._op(f"RETR {name}", retr)

    def delete(self, name: str) -> None:
        check_name(name, self.name)

        def dele(ftp: ftplib.FTP) -> None:
            try:
                ftp.delete(name)
            except ftplib.error_perm as exc:
                if not str(exc).startswith("550"):
                    raise

        self._op(f"DELE {name}", dele)

    def close(self) -> None:
        if self._ftp is not None:
            try:
                self._ftp.quit()
            except (ftplib.Error, OSError, EOFError):
                self._ftp.close()
            self._ftp = None

    # -- FTP ----------------------------------------------------------------------------------

    def _connect(self) -> ftplib.FTP:
        if self._ftp is not None:
            return self._ftp
        o = self.options
        ftp: ftplib.FTP
        if o.tls:
            ctx = ssl.create_default_context(cafile=str(o.ca_file) if o.ca_file else None)
            if not o.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            ftp = ftplib.FTP_TLS(context=ctx, timeout=o.timeout)
        else:
            ftp = ftplib.FTP(timeout=o.timeout)
        ftp.connect(o.host, o.port)
        ftp.login(o.username, o.password.get_secret_value())
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        ftp.set_pasv(o.passive)
        ftp.voidcmd("TYPE I")  # SIZE is only meaningful in binary mode
        if o.directory not in ("", "/"):
            ftp.cwd(o.directory)
        self._ftp = ftp
        return ftp

    def _op(self, what: str, fn: Callable[[ftplib.FTP], R]) -> R:
        """Runs one operation; any FTP or socket failure drops the connection (the next operation
        reconnects) and becomes a TargetError naming the operation, never the password."""
        try:
            return fn(self._connect())
        except TargetError:
            self._drop()
            raise
        except (ftplib.Error, OSError, EOFError) as exc:
            self._drop()
            msg = str(exc).strip() or type(exc).__name__
            raise TargetError(f"{what}: {msg}", target=self.name) from None

    def _drop(self) -> None:
        if self._ftp is not None:
            self._ftp.close()
            self._ftp = None

    def _mkdirs(self, ftp: ftplib.FTP, folder: str) -> None:
        if not folder or folder in self._dirs:
            return
        try:
            ftp.mkd(folder)
        except ftplib.error_perm as exc:
            if not str(exc).startswith("550"):  # exists already
                raise
        self._dirs.add(folder)

    def _store(self, tmp: str, data: bytes, *, final: str, how: str | None = None) -> None:
        how = how or self.options.verify

        def store(ftp: ftplib.FTP) -> None:
            self._mkdirs(ftp, final.rpartition("/")[0])
            deadline = time.monotonic() + self.options.deadline
            ftp.storbinary(f"STOR {tmp}", _Reader(data, deadline, self.name, tmp), blocksize=BLOCK)
            size = ftp.size(tmp)
            if size != len(data):
                _quietly(ftp.delete, tmp)
                raise VerifyError(f"{tmp} has {size} bytes on the server, {len(data)} were sent", target=self.name)
            if how == "sha256":
                buf = io.BytesIO()
                ftp.retrbinary(f"RETR {tmp}", buf.write, blocksize=BLOCK)
                if hashlib.sha256(buf.getvalue()).digest() != hashlib.sha256(data).digest():
                    _quietly(ftp.delete, tmp)
                    raise VerifyError(f"{tmp} reads back with another sha256", target=self.name)
            ftp.rename(tmp, final)  # RNFR/RNTO: replaces an existing file on POSIX servers

        self._op(f"STOR {final}", store)


class _Reader(io.RawIOBase):
    """The upload as a file ``storbinary`` reads block by block, checking the deadline."""

    def __init__(self, data: bytes, deadline: float, target: str, name: str) -> None:
        self._chunks: Iterator[bytes] = (data[i : i + BLOCK] for i in range(0, len(data), BLOCK))
        self._deadline, self._target, self._name = deadline, target, name

    def read(self, size: int | None = -1) -> bytes:
        if time.monotonic() > self._deadline:
            raise TargetError(f"STOR {self._name}: upload not done within the deadline", target=self._target)
        return next(self._chunks, b"")


def _modified(fact: str) -> float:
    """An MLSD ``modify`` fact (UTC, YYYYMMDDHHMMSS[.sss]) as a timestamp; now if unreadable, so
    that a file of unknown age is never taken for a stale one."""
    try:
        return datetime.strptime(fact[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return time.time()


def _quietly(fn: Callable[[str], object], arg: str) -> None:
    with contextlib.suppress(ftplib.Error, OSError):
        fn(arg)
