"""The daemon: one APScheduler ``BlockingScheduler`` per node; one node leads.

Every node runs a heartbeat (which pets systemd's watchdog, so a stuck scheduler gets the
service restarted), an election, and render and delivery workers that claim their work in the
store (:mod:`pusher.store.claims`). The leader (:mod:`pusher.daemon.leader`: a PostgreSQL advisory lock, or a
file lock beside a SQLite database) also runs one poll job per source at its own interval and
the publish job (screen → render → publish → deliver) at the channel's interval, woken at once
when a poll found something. When the leader dies a follower's next election takes over; a node
that finds it lost the lock drops the leader's jobs before they run again.

Jobs coalesce, never overlap (``max_instances=1``). The first SIGTERM (or SIGINT) drains: systemd
hears ``STOPPING=1``, stages finish the item in hand, unfinished claims are handed back and the
process exits 0; a second signal exits at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlmodel import col, select

from pusher.daemon.leader import leadership_for
from pusher.daemon.notify import notify, watchdog_interval
from pusher.errors import TvPusherError
from pusher.runtime import Runtime
from pusher.store import claims
from pusher.store.models import Node
from pusher.timeutil import utcnow

log = logging.getLogger("tvpusher.daemon")

PUBLISH_JOB = "publish"


class _Coalesced(logging.Filter):
    """A job still running when its next turn comes is skipped by design (``max_instances=1``,
    ``coalesce``): APScheduler's warning about it would fill the log of a busy node."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class Daemon:
    def __init__(self, rt: Runtime) -> None:
        from pusher import logs

        self.rt = rt
        d = rt.settings.daemon
        self.node = d.node_name()
        logs.register_secrets(rt.settings)
        self.tz = ZoneInfo(rt.settings.channel.timezone)
        self.scheduler = BlockingScheduler(
            timezone=self.tz,
            # Room for every job at once, so that a slow poll never delays the heartbeat: only a
            # stuck scheduler (or every worker thread hung) stops the watchdog.
            executors={"default": ThreadPoolExecutor(max_workers=len(rt.settings.sources) + 7)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.leadership = leadership_for(rt.store, rt.settings.channel.workdir)
        self.leader = False
        self.started_at = utcnow()
        self._role = threading.Lock()  # promote / demote
        self._publish_lock = threading.Lock()
        self._render_lock = threading.Lock()  # one renderer per process: claims are per node
        self._deliver_lock = threading.Lock()  # the outbox's lease is per process
        self._again = threading.Event()
        self._signals = 0
        self._shutdown: threading.Thread | None = None
        self._last_beat: float | None = None
        self._said_lost = False
        self.health: Any = None
        wd = watchdog_interval()
        self.beat_every = min(d.heartbeat, wd / 3) if wd else d.heartbeat
        now = datetime.now(self.tz)
        add = self.scheduler.add_job
        add(self.heartbeat_job, "interval", seconds=self.beat_every, id="heartbeat", next_run_time=now, misfire_grace_time=None)
        # The node's row is written by a job of its own: a store that hangs must not stop the
        # heartbeat (a restart would not bring the database back).
        add(self.record_job, "interval", seconds=max(self.beat_every, 1.0), id="record", next_run_time=now, misfire_grace_time=None)
        add(self.election_job, "interval", seconds=d.election_interval, id="election", next_run_time=now, misfire_grace_time=None)
        add(self.render_worker, "interval", seconds=d.worker_interval, id="render", misfire_grace_time=None)
        add(self.deliver_worker, "interval", seconds=d.worker_interval, id="deliver", misfire_grace_time=None)
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        sched_log = logging.getLogger("apscheduler.scheduler")
        if not any(isinstance(f, _Coalesced) for f in sched_log.filters):
            sched_log.addFilter(_Coalesced())

    # -- every node ------------------------------------------------------------------------------

    def heartbeat_job(self) -> None:
        self._last_beat = time.monotonic()
        notify("WATCHDOG=1")

    def record_job(self) -> None:
        try:
            self._record_node()
        except Exception as exc:  # the store is away: keep running, health says so
            log.warning("cannot record the heartbeat: %s", exc)

    def beat_age(self) -> float | None:
        return None if self._last_beat is None else time.monotonic() - self._last_beat

    def election_job(self) -> None:
        if self.rt.stopping.is_set():
            return
        with self._role:
            if self.leader:
                if not self.leadership.held():
                    self._demote("lost the leader lock")
            elif self.leadership.acquire():
                self._promote()

    def render_worker(self) -> None:
        if self.rt.stopping.is_set():
            return
        from pusher.stages import render_items

        self._guarded("render", lambda: self._if_free(self._render_lock, lambda: render_items(self.rt)))

    def deliver_worker(self) -> None:
        if self.rt.stopping.is_set():
            return
        from pusher.stages import deliver

        self._guarded("deliver", lambda: self._if_free(self._deliver_lock, lambda: deliver(self.rt)))

    # -- the leader's jobs -----------------------------------------------------------------------

    def _promote(self) -> None:
        self.leader = True
        log.info("%s leads the scheduler now", self.node, extra={"event": "leader"})
        now = datetime.now(self.tz)
        for s in self.rt.settings.sources:
            if s.enabled:
                self.scheduler.add_job(self._leader_job, "interval", seconds=s.interval, id=f"poll:{s.name}",
                                       args=[f"poll:{s.name}", self.poll_job, s.name], misfire_grace_time=s.interval,
                                       next_run_time=now, replace_existing=True)  # fmt: skip
        every = self.rt.settings.channel.publish_interval
        self.scheduler.add_job(self._leader_job, "interval", seconds=every, id=PUBLISH_JOB, args=[PUBLISH_JOB, self.publish_job],
                               misfire_grace_time=every, next_run_time=now, replace_existing=True)  # fmt: skip
        try:
            with self.rt.store.write() as db:
                for other in db.exec(select(Node).where(col(Node.leader), Node.name != self.node)):
                    other.leader = False  # we hold the lock: whoever the table says leads is gone
            self._record_node(leader_since=utcnow())
        except Exception as exc:
            log.warning("cannot record the leadership: %s", exc)

    def _demote(self, why: str) -> None:
        self.leader = False
        log.error("%s no longer leads the scheduler: %s", self.node, why, extra={"event": "follower"})
        for job in [j for j in self.scheduler.get_jobs() if j.id == PUBLISH_JOB or j.id.startswith("poll:")]:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job.id)

    def _leader_job(self, job: str, fn: Callable[..., None], *args: Any) -> None:
        """Runs a leader's job only while this node still holds the lock (checked, not assumed)."""
        if self.rt.stopping.is_set() or not self.leader:
            return
        if not self.leadership.held():
            with self._role:
                self._demote("lost the leader lock")
            return
        started = time.monotonic()
        log.info("job %s started", job, extra={"event": "job_start", "job": job})
        try:
            fn(*args)
        finally:
            log.info("job %s finished", job, extra={"event": "job_end", "job": job, "seconds": round(time.monotonic() - started, 3)})

    def poll_job(self, name: str) -> None:
        from pusher.stages import poll_source

        if self.rt.stopping.is_set():
            return
        try:
            report = poll_source(self.rt, name)
        except TvPusherError as exc:
            log.error("poll of %s failed: %s", name, exc, extra={"source": name})
            return
        except Exception:  # a bug in one source must not stop the daemon
            log.exception("poll of %s crashed", name, extra={"source": name})
            return
        log.info("polled %s: %s, %d new, %d changed, %d withdrawn", name, report.status, report.new, report.changed, report.withdrawn,
                 extra={"source": name, "event": "poll", "status": report.status})  # fmt: skip
        if report.changed_anything and not self.rt.stopping.is_set():
            self.wake_publish()

    def wake_publish(self) -> None:
        if self._publish_lock.locked():
            self._again.set()  # the running round picks the new work up before it returns
            return
        try:
            self.scheduler.modify_job(PUBLISH_JOB, next_run_time=datetime.now(self.tz))
        except Exception:  # shutting down, or no longer the leader
            log.debug("could not wake the publish job", exc_info=True)

    def publish_job(self) -> None:
        from pusher.ops import run_round

        locks = {"render": self._render_lock, "deliver": self._deliver_lock}

        def wrap(step: str, fn: Callable[[], object]) -> None:
            lock = locks.get(step)
            self._guarded(step, fn if lock is None else lambda: self._locked(lock, fn))

        with self._publish_lock:
            self._again.set()
            while self._again.is_set() and not self.rt.stopping.is_set():
                self._again.clear()
                if run_round(self.rt, wrap=wrap).stopped:
                    return
        # A wake-up that came after the loop's last look but before the lock was released
        # would otherwise wait for the next interval.
        if self._again.is_set() and not self.rt.stopping.is_set():
            self.wake_publish()

    # -- plumbing --------------------------------------------------------------------------------

    @staticmethod
    def _locked(lock: threading.Lock, fn: Callable[[], object]) -> object:
        with lock:
            return fn()

    @staticmethod
    def _if_free(lock: threading.Lock, fn: Callable[[], object]) -> object:
        """Runs ``fn`` unless this process is doing that work already (then it has it in hand)."""
        if not lock.acquire(blocking=False):
            return None
        try:
            return fn()
        finally:
            lock.release()

    def _guarded(self, name: str, fn: Callable[[], object]) -> None:
        lost = self.rt.store.lost
        if lost:
            # The database file went away under us: no step may run against another one. Said
            # once here; /healthz answers 503 with the reason until an operator restarts.
            if not self._said_lost:
                self._said_lost = True
                log.error("stopping work: %s", lost, extra={"event": "store_lost"})
            return
        try:
            fn()
        except TvPusherError as exc:
            log.error("%s failed: %s", name, exc)
        except Exception:  # a bug in one stage must not stop the daemon
            log.exception("%s crashed", name)

    def _record_node(self, *, leader_since: datetime | None = None, stopped: bool = False) -> None:
        with self.rt.store.write() as db:
            row = db.get(Node, self.node) or Node(name=self.node, started_at=self.started_at)
            row.host, row.pid, row.seen_at = socket.gethostname(), os.getpid(), utcnow()
            if row.started_at != self.started_at:  # a restarted node that reuses its name
                row.started_at, row.leader_since = self.started_at, None
            row.leader = self.leader and not stopped
            row.stopped_at = utcnow() if stopped else None
            if leader_since is not None:
                row.leader_since = leader_since
            elif not row.leader:
                row.leader_since = None
            db.add(row)

    def _on_started(self, _event: SchedulerEvent) -> None:
        notify("READY=1", f"STATUS=node {self.node}: scheduler running")
        log.info("scheduler started on %s", self.node, extra={"event": "ready"})
        if self.rt.stopping.is_set():  # the signal came while the daemon was starting
            self._stop_scheduler()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("second signal: exiting at once")
            os._exit(1)
        notify("STOPPING=1", "STATUS=draining")
        log.info("signal %d: finishing the current step, then stopping", signum, extra={"event": "stopping"})
        self.rt.stopping.set()
        # A scheduler not running yet (the daemon is starting) is stopped by _on_started.
        if self.scheduler.running:
            self._stop_scheduler()

    def _stop_scheduler(self) -> None:
        if self._shutdown is not None:
            return
        # shutdown() joins the worker threads; do it off the signal handler so that a second
        # signal can still be received while we wait.
        self._shutdown = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, name="shutdown", daemon=True)
        self._shutdown.start()

    def _start_health(self) -> None:
        address = self.rt.settings.daemon.health_address()
        if address is None:
            return
        from pusher.daemon.health import HealthServer
        from pusher.ops.health import process_problems
        from pusher.ops.status import collect_status

        try:
            self.health = HealthServer(address, lambda: collect_status(self.rt), self.rt.settings, self.beat_age,
                                       lambda: self.leader, lambda: process_problems(self.rt)).start()  # fmt: skip
        except OSError as exc:  # the port is taken: run without it rather than not at all
            log.error("cannot serve health and metrics on %s:%d: %s", *address, exc)

    def run(self) -> None:
        from pusher import logs

        logs.set_node(self.node)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        released = claims.release_dead(self.rt.store) + claims.release_items(self.rt.store, self.node)
        if released:
            log.info("took back %d render claims of dead processes", released)
        self._start_health()
        log.info("daemon %s started: %d sources, %d targets", self.node, len(self.rt.settings.sources), len(self.rt.settings.targets))
        try:
            self.scheduler.start()
            if self._shutdown is not None:
                self._shutdown.join()  # the running jobs have returned
        finally:
            self._stop()
        log.info("daemon stopped")

    def _stop(self) -> None:
        try:
            claims.release_items(self.rt.store, self.node)
            self._record_node(stopped=True)
        except Exception as exc:
            log.warning("cannot hand back claims on exit (their leases will run out): %s", exc)
        self.leadership.release()
        self.leader = False
        if self.health is not None:
            self.health.stop()
