"""Drawing items on every core: worker processes that each hold a renderer of their own.

The render stage keeps everything that touches the store — claims, the asset cache, the rows —
and hands the drawing to a :class:`Drawer`: :class:`InProcess` draws with the runtime's
renderer as before, :class:`DrawPool` sends each item (its screened document and page context,
plain picklable values) to a pool of processes and gets back the page images. Both draw through
:func:`draw`, so a failure reads the same either way, and a worker builds its renderer from the
same factory and settings as the runtime, so the pages are the same bytes (the redraw path,
:mod:`pusher.store.redraw`, relies on it).

Why ``forkserver``: the daemon has APScheduler's threads, a health server and pooled database
connections; a plain ``fork`` of that process copies locks held by other threads and sockets
shared with the parent. The fork server is a fresh single-threaded interpreter that imports the
renderer once (:data:`PRELOAD`); workers fork from it, so each starts in milliseconds and opens
its fonts once, in :func:`_init`.

A worker ignores SIGTERM and SIGINT: systemd signals the whole cgroup, and a worker dying under
the stage would read as a crash of the item it was drawing. The stage decides when workers go: at
the end of a stage call the pool is handed to :func:`keep` and the next call with the same
renderer settings takes it back (:func:`pool_for`), warm; it is shut down, waited for, after
``KEEP_ALIVE`` idle seconds, when another pool replaces it, when the stage was stopped, and at
the interpreter's exit (:func:`shutdown`). A worker whose parent vanished (the daemon killed with
SIGKILL) exits by itself.

A worker that dies (a segfault in a C library, the OOM killer) breaks the whole pool: every
item in flight fails with ``BrokenProcessPool``. Those items are drawn again one at a time in a
fresh pool, so only the one that kills its worker alone is failed.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pusher.errors import RenderError
from pusher.interfaces import Document, PageContext, PageImage, Renderer
from renderers.settings import RenderSettings

log = logging.getLogger("tvpusher.render")

#: What the fork server imports before it forks any worker: the renderer and its libraries, and
#: the main module (run as ``__mp_main__``, as a worker would run it; once in the server, not once
#: a worker: the bench's main imports half the project, 5% of a short-lived worker's CPU).
PRELOAD = [
    "__main__",
    "pusher.stages.render_pool",
    "renderers.tv",
    "pusher.registry",
    "pusher.store.images",
    "pusher.stages.render_preload",
]

#: Seconds a pool's idle workers wait for the next stage call in this process (a daemon's next
#: round with a backlog) before they exit: a new worker costs its fonts and a cold glyph cache,
#: ~0.3 s of CPU, against ~3 ms a page. 0: every pool is closed at the end of its stage call.
KEEP_ALIVE = 120.0

#: Why an item whose worker died alone is failed (``render: `` is prefixed, as for any failure).
WORKER_DIED = "the drawing process died on this item (killed or crashed)"


@dataclass(frozen=True)
class RendererSpec:
    """What a worker builds its renderer from, as the runtime does (``Runtime.renderer``)."""

    profile: str
    settings: RenderSettings
    images: Path  # the picture cache's folder (``pusher.store.images.ImageCache``)


@dataclass(frozen=True)
class Job:
    item_id: int
    version: int
    doc: Document  # screened and cut to ``render.max_pages`` (``codec.bounded``)
    ctx: PageContext


@dataclass(frozen=True)
class Drawn:
    """An item drawn, or why not: ``error`` is ``str(exc)``; ``bug`` when it was not a
    RenderError (a renderer bug the item trips: logged with ``trace``)."""

    item_id: int
    pages: tuple[PageImage, ...] = ()
    error: str = ""
    bug: bool = False
    trace: str = ""
    seconds: float = 0.0
    # What the renderer logged while drawing it in a worker, logged again by the parent.
    logs: tuple[tuple[str, int, str], ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.error)


def draw(renderer: Renderer, job: Job) -> Drawn:
    """Draws one item; an exception becomes a failed :class:`Drawn` (one bad item never stops the others)."""
    started = time.perf_counter()
    try:
        pages = tuple(renderer.render_item(job.doc, job.ctx))
    except Exception as exc:  # a RenderError, or a renderer bug this item trips
        bug = not isinstance(exc, RenderError)
        return Drawn(job.item_id, error=str(exc) or type(exc).__name__, bug=bug, trace=traceback.format_exc() if bug else "")
    return Drawn(job.item_id, pages, seconds=time.perf_counter() - started)


class Drawer(Protocol):
    """Draws the jobs of a batch: ``start`` begins (a pool starts drawing at once), ``finish``
    returns what was drawn by item id; an item missing from it was not drawn (the stage was
    stopped) and goes back unclaimed."""

    def start(self, jobs: Sequence[Job]) -> object: ...

    def finish(self, handle: object, stopping: threading.Event) -> dict[int, Drawn]: ...

    def close(self) -> None: ...


class InProcess:
    """Draws in this process, one item after the other, with the runtime's renderer."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    def start(self, jobs: Sequence[Job]) -> object:
        return list(jobs)

    def finish(self, handle: object, stopping: threading.Event) -> dict[int, Drawn]:
        assert isinstance(handle, list)
        out: dict[int, Drawn] = {}
        for job in handle:
            if stopping.is_set():
                break  # the rest is handed back
            out[job.item_id] = draw(self.renderer, job)
        return out

    def close(self) -> None:
        pass


@dataclass
class _Flight:
    jobs: list[Job]
    chunks: list[list[Job]] = field(default_factory=list)  # one task a worker, as submitted
    futures: list[Future[list[Drawn]]] = field(default_factory=list)


def chunked(jobs: Sequence[Job], workers: int) -> list[list[Job]]:
    """A batch as one task a worker (every ``workers``-th job, so the longer items of a run of
    them spread): with a task an item, the executor's threads in this process took CPU the
    workers lacked on two cores (render_stage_bench, 1,006 items: this process's CPU 2.4–3.1 s,
    2.1 s with a task a worker)."""
    n = max(1, min(workers, len(jobs)))
    return [list(jobs[i::n]) for i in range(n)] if jobs else []


class DrawPool:
    """Draws in ``workers`` processes; kept between calls of the stage (:func:`keep`)."""

    def __init__(self, spec: RendererSpec, workers: int, fallback: Renderer) -> None:
        """``fallback`` (the runtime's renderer) draws in this process once workers cannot be
        started at all (no memory to fork, an unimportable ``__main__``): an item is only
        failed for a worker that dies on it while a fresh pool can otherwise draw."""
        self.spec, self.workers, self.fallback = spec, workers, fallback
        self._pool: ProcessPoolExecutor | None = None
        self.started = 0  # pools started (a broken one is replaced)
        self.disabled = False  # workers cannot start: everything is drawn in this process

    @property
    def warm(self) -> bool:
        """Whether its workers are running (a pool kept from an earlier stage call)."""
        return self._pool is not None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)  # only read when the fork server starts (once per process)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init, initargs=(self.spec, os.getpid()))
            self.started += 1
        return self._pool

    def _broken(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def start(self, jobs: Sequence[Job]) -> object:
        flight = _Flight(list(jobs), chunked(jobs, self.workers))
        if self.disabled:
            return flight  # finish() draws them here
        try:
            pool = self._executor()
            flight.futures = [pool.submit(_work_many, chunk) for chunk in flight.chunks]
        except (BrokenProcessPool, OSError):
            self._broken()  # finish() draws them one at a time
            flight.futures = []
        return flight

    def finish(self, handle: object, stopping: threading.Event) -> dict[int, Drawn]:
        assert isinstance(handle, _Flight)
        out: dict[int, Drawn] = {}
        pending = set(handle.futures)
        while pending:
            if stopping.is_set():
                for f in pending:
                    f.cancel()  # not started yet: handed back; those drawing now finish
            pending = wait(pending, timeout=0.25).not_done
        again: list[Job] = []
        if not handle.futures:
            again = list(handle.jobs)  # never submitted: the pool was broken or is disabled
        for chunk, fut in zip(handle.chunks, handle.futures, strict=False):
            try:
                out.update((d.item_id, d) for d in fut.result())
            except CancelledError:
                pass
            except BrokenProcessPool:
                again.extend(chunk)
        if again:
            self._broken()
            for job in again:
                if stopping.is_set():
                    break
                out[job.item_id] = self._alone(job)
        return out

    def _alone(self, job: Job) -> Drawn:
        """Draws one item of a broken pool with nothing else in flight: if its worker dies now
        while a fresh worker can draw, it is the item that kills it."""
        if not self.disabled and not self._healthy():
            self.disabled = True
            log.error("render workers cannot be started: drawing in this process (render.workers = 1 avoids trying)")
        if self.disabled:
            return draw(self.fallback, job)
        try:
            return self._executor().submit(_work, job).result()
        except (BrokenProcessPool, OSError):
            self._broken()
            log.error("the drawing process died on item %s", job.item_id, extra={"item": job.item_id})
            return Drawn(job.item_id, error=WORKER_DIED)

    def _healthy(self) -> bool:
        """Whether a (fresh) pool starts a worker that answers."""
        try:
            return self._executor().submit(_ping).result() == os.getpid()
        except (BrokenProcessPool, OSError):
            self._broken()
            return False

    def close(self) -> None:
        if self._pool is not None:
            # Waits for the workers to exit: no process of the pool outlives the stage.
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_kept: DrawPool | None = None
_kept_lock = threading.Lock()
_kept_timer: threading.Timer | None = None


def pool_for(spec: RendererSpec, workers: int, fallback: Renderer) -> DrawPool:
    """The kept pool when it draws with ``spec`` on at least ``workers`` processes (its workers
    started, fonts open, glyphs cached), else a new one (the kept one is shut down)."""
    global _kept
    with _kept_lock:
        _cancel_timer()
        kept, _kept = _kept, None
    if kept is not None:
        if kept.spec == spec and kept.workers >= workers and not kept.disabled:
            kept.fallback = fallback
            return kept
        kept.close()
    return DrawPool(spec, workers, fallback)


def keep(pool: DrawPool) -> None:
    """The stage call is over: ``pool``'s workers wait ``KEEP_ALIVE`` seconds for the next one."""
    global _kept, _kept_timer
    if KEEP_ALIVE <= 0 or pool.disabled or pool._pool is None:
        pool.close()
        return
    with _kept_lock:
        _cancel_timer()
        old, _kept = _kept, pool
        _kept_timer = threading.Timer(KEEP_ALIVE, _expire, args=(pool,))
        _kept_timer.daemon = True
        _kept_timer.name = "render-pool-keep"
        _kept_timer.start()
    if old is not None and old is not pool:
        old.close()


def shutdown() -> None:
    """Shuts the kept pool down, waiting for its workers (also run at the interpreter's exit)."""
    global _kept
    with _kept_lock:
        _cancel_timer()
        kept, _kept = _kept, None
    if kept is not None:
        kept.close()


def kept_workers() -> int:
    """Processes of the kept pool (0: none kept)."""
    with _kept_lock:
        return _kept.workers if _kept is not None and _kept._pool is not None else 0


def _cancel_timer() -> None:
    global _kept_timer
    if _kept_timer is not None:
        _kept_timer.cancel()
        _kept_timer = None


def _expire(pool: DrawPool) -> None:
    global _kept
    with _kept_lock:
        if _kept is not pool:
            return  # taken back by a stage call meanwhile
        _kept = None
    pool.close()
    log.info("render workers idle for %.0f s: stopped", KEEP_ALIVE)


atexit.register(shutdown)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, as a container or ``taskset`` sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ------------------------------------------------------------------ in the workers --

_renderer: Renderer | None = None
_parent = 0
_captured: list[tuple[str, int, str]] = []


class _Capture(logging.Handler):
    """Keeps what the renderer logs while drawing an item, for the parent to log again (a
    worker has no log configuration of its own)."""

    def emit(self, record: logging.LogRecord) -> None:
        _captured.append((record.name, record.levelno, record.getMessage()))


def _init(spec: RendererSpec, parent: int) -> None:
    global _renderer, _parent
    _parent = parent
    # The stage stops its workers itself, after the items they draw are stored.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = logging.getLogger()
    root.handlers[:] = [_Capture(logging.INFO)]
    root.setLevel(logging.INFO)
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
    _renderer = _build(spec)
    _captured.clear()  # what opening the fonts said, the parent's own renderer said too


def _build(spec: RendererSpec) -> Renderer:
    # The runtime's way (``Runtime.renderer``): the registered factory, the profile and [render].
    from pusher.registry import RENDERERS
    from pusher.store.images import ImageCache

    make: Callable[..., Renderer] = RENDERERS.get("tv").factory
    return make(spec.profile, spec.settings, images=ImageCache(spec.images).load)


def _watch_parent(parent: int) -> None:
    """Exits once the stage's process is gone (killed): a worker is never left behind it."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # pragma: no cover - another user's process took the pid
            os._exit(0)


def _ping() -> int:
    """A worker's answer that it started (its renderer built): the stage's pid."""
    return _parent


def _work_many(jobs: Sequence[Job]) -> list[Drawn]:
    return [_work(job) for job in jobs]


def _work(job: Job) -> Drawn:
    assert _renderer is not None, "worker not initialised"
    _captured.clear()
    drawn = draw(_renderer, job)
    if _captured:
        drawn = Drawn(**{**drawn.__dict__, "logs": tuple(_captured)})
    return drawn
