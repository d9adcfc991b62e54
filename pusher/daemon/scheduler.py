"""The daemon: one APScheduler ``BlockingScheduler`` per node, serving every channel of its
configuration; for each channel one node leads.

Every node runs a heartbeat (which pets systemd's watchdog, so a stuck scheduler gets the
service restarted) and, per channel, an election and render and delivery workers that claim
their work in the channel's store (:mod:`pusher.store.claims`). A channel's leader
(:mod:`pusher.daemon.leader`: a PostgreSQL advisory lock, or a file lock beside a SQLite
database) also runs one poll job per source at its own interval and the publish job (screen →
render → publish → deliver) at the channel's interval, woken at once when a poll found
something. A render worker draws until nothing waits (on the leader it screens too, so a long
poll's items are drawn while it polls on) and then wakes the publish round. When the leader
dies a follower's next election takes over; a node that finds it lost the lock drops the
leader's jobs before they run again.

Several channels (:mod:`pusher.config.channels`): each has its own Runtime, store, leadership
and jobs (ids ``<channel>/poll:<source>``, ``<channel>/publish``…), so one channel whose portal
or database fails never stops the others; a channel whose store cannot be opened at start is
opened again at each of its elections. The nodes share the leaderships: a node leads at most
its share (the channels over the live nodes, rounded up) and hands the surplus over when
another node comes up, unless no other node has taken a channel for a few elections.

Jobs coalesce, never overlap (``max_instances=1``). The first SIGTERM (or SIGINT) drains: systemd
hears ``STOPPING=1``, stages finish the item in hand, unfinished claims are handed back and the
process exits 0; a second signal exits at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlmodel import col, select

from pusher.daemon.leader import Leadership, leadership_for
from pusher.daemon.notify import notify, watchdog_interval
from pusher.errors import TvPusherError
from pusher.runtime import Runtime
from pusher.store import claims
from pusher.store.models import Node
from pusher.timeutil import utcnow

if TYPE_CHECKING:
    from pusher.config.channels import Channel
    from pusher.config.settings import Settings

log = logging.getLogger("tvpusher.daemon")

PUBLISH_JOB = "publish"
#: The channel a job of this thread works for: stamped on every log line (``channel``).
CURRENT_CHANNEL: contextvars.ContextVar[str] = contextvars.ContextVar("tvpusher_channel", default="")
#: Elections a channel may stay without a live leader before a node past its share takes it.
UNLED_ELECTIONS = 3


class _Coalesced(logging.Filter):
    """A job still running when its next turn comes is skipped by design (``max_instances=1``,
    ``coalesce``): APScheduler's warning about it would fill the log of a busy node."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class _ChannelStamp(logging.Filter):
    """Stamps a record with the channel of the job that logged it (several channels only)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "channel") and (name := CURRENT_CHANNEL.get()):
            record.channel = name
        return True


class ChannelWork:
    """One channel served by this process: its Runtime, leadership, locks and jobs."""

    def __init__(self, daemon: Daemon, name: str, settings: Settings, rt: Runtime | None) -> None:
        self.daemon, self.name, self.settings = daemon, name, settings
        self.prefix = f"{name}/" if name else ""
        self.rt: Runtime | None = None
        self.leadership: Leadership | None = None
        self.leader = False
        self.led_since = 0.0  # monotonic, when this node took the lead
        self.took_unled = False  # taken past this node's share: not handed over again
        self.peers: set[str] = set()  # live nodes in this channel's store (itself included)
        self.led_elsewhere = False  # a live node other than this one leads it, says the store
        self.unled_elections = 0
        self.open_error = ""
        self.said_lost = False
        self._publish_lock = threading.Lock()
        self._render_lock = threading.Lock()  # one renderer per process and channel: claims are per node
        self._screen_lock = threading.Lock()  # the publish round or the leader's render worker, not both
        self._deliver_lock = threading.Lock()  # the outbox's lease is per process
        self._again = threading.Event()
        if rt is not None:
            self._opened(rt)

    # -- opening ---------------------------------------------------------------------------------

    def _opened(self, rt: Runtime) -> None:
        rt.stopping = self.daemon.stopping  # one SIGTERM drains every channel
        self.leadership = leadership_for(rt.store, rt.settings.channel.workdir)
        self.rt = rt

    def ensure_open(self) -> Runtime | None:
        """The channel's Runtime, opened now if it could not be so far (its database was away)."""
        if self.rt is not None:
            return self.rt
        from pusher.daemon.channels import open_runtime

        try:
            # One idle connection per channel: 20 channels on two nodes stay well inside
            # PostgreSQL's default 100 connections (bursts open more and close them after).
            rt = open_runtime(self.settings, pool_size=1)
        except Exception as exc:  # a channel whose database is away waits; the others go on
            if str(exc) != self.open_error:
                log.error("channel %s cannot be opened (tried again at each election): %s", self.name, exc,
                          extra={"event": "channel_unavailable"})  # fmt: skip
            self.open_error = str(exc)
            return None
        self.open_error = ""
        released = claims.release_dead(rt.store) + claims.release_items(rt.store, self.daemon.node)
        if released:
            log.info("took back %d render claims of dead processes", released)
        self._opened(rt)
        log.info("channel %s opened: %d sources, %d targets", self.name, len(self.settings.sources), len(self.settings.targets),
                 extra={"event": "channel_open"})  # fmt: skip
        return rt

    def job(self, fn: Callable[..., None]) -> Callable[..., None]:
        """``fn`` run with the channel stamped on the thread's log lines."""
        if not self.name:
            return fn

        def run(*args: Any) -> None:
            token = CURRENT_CHANNEL.set(self.name)
            try:
                fn(*args)
            finally:
                CURRENT_CHANNEL.reset(token)

        return run

    def add_jobs(self, now: datetime, beat_every: float) -> None:
        d = self.daemon.settings.daemon
        add = self.daemon.scheduler.add_job
        # The node's row is written by a job of its own: a store that hangs must not stop the
        # heartbeat (a restart would not bring the database back).
        add(self.job(self.record_job), "interval", seconds=max(beat_every, 1.0), id=f"{self.prefix}record", next_run_time=now,
            misfire_grace_time=None)  # fmt: skip
        add(self.job(self.election_job), "interval", seconds=d.election_interval, id=f"{self.prefix}election", next_run_time=now,
            misfire_grace_time=None)  # fmt: skip
        add(self.job(self.render_worker), "interval", seconds=d.worker_interval, id=f"{self.prefix}render", misfire_grace_time=None)
        add(self.job(self.deliver_worker), "interval", seconds=d.worker_interval, id=f"{self.prefix}deliver", misfire_grace_time=None)

    # -- every node ------------------------------------------------------------------------------

    def record_job(self) -> None:
        if self.rt is None:
            return
        try:
            self._record_node()
            if self.daemon.several:
                self._read_peers()
        except Exception as exc:  # the store is away: keep running, health says so
            log.warning("cannot record the heartbeat: %s", exc)

    def election_job(self) -> None:
        if self.daemon.stopping.is_set() or self.ensure_open() is None:
            return
        assert self.leadership is not None
        with self.daemon.role:
            if self.leader:
                if not self.leadership.held():
                    self._demote("lost the leader lock")
                elif self.daemon.surplus(self):
                    self._hand_over()
            elif self.daemon.may_lead(self) and self.leadership.acquire():
                self.took_unled = self.daemon.leads() >= self.daemon.share()
                self._promote()

    def render_worker(self) -> None:
        if self.daemon.stopping.is_set() or self.rt is None:
            return
        from pusher.stages import render_items, screen_items
        from pusher.stages.render import RenderReport
        from pusher.stages.screen import new_waiting

        rt = self.rt

        def drain() -> None:
            # A backlog (a first start, a portal publishing its archive) is drawn call after
            # call, not a call's worth each worker interval (1,000 new items waited 40 s for
            # their pages, then the publish interval for the channel, issue 19). On the leader
            # the worker screens too, so that what a long poll stores is drawn while it polls
            # on; once drawn, the publish round is woken to put it on air.
            drawn = 0
            while not rt.stopping.is_set():
                # if_free answers None while the publish round holds the screening: nothing done here.
                screened = self.leader and new_waiting(rt) and bool(self.daemon.if_free(self._screen_lock, lambda: screen_items(rt)))
                # The process's drawing slots are taken a call at a time: other channels draw between.
                rep = self.daemon.rendering(lambda: render_items(rt))
                assert isinstance(rep, RenderReport)
                if not rep.items and not rep.failed and not screened:
                    break
                drawn += rep.items
            if drawn and self.leader and not rt.stopping.is_set():
                self.wake_publish()

        self._guarded("render", lambda: self.daemon.if_free(self._render_lock, drain))

    def deliver_worker(self) -> None:
        if self.daemon.stopping.is_set() or self.rt is None:
            return
        from pusher.stages import deliver

        rt = self.rt
        self._guarded("deliver", lambda: self.daemon.if_free(self._deliver_lock, lambda: deliver(rt)))

    # -- the leader's jobs -----------------------------------------------------------------------

    def _promote(self) -> None:
        assert self.rt is not None
        self.leader, self.led_since = True, time.monotonic()
        what = f"channel {self.name}" if self.name else "the scheduler"
        log.info("%s leads %s now", self.daemon.node, what, extra={"event": "leader"})
        now = datetime.now(self.daemon.tz)
        sched = self.daemon.scheduler
        for s in self.settings.sources:
            if s.enabled:
                job = f"poll:{s.name}"
                sched.add_job(self.job(self._leader_job), "interval", seconds=s.interval, id=self.prefix + job,
                              args=[job, self.poll_job, s.name], misfire_grace_time=s.interval,
                              next_run_time=now, replace_existing=True)  # fmt: skip
        every = self.settings.channel.publish_interval
        sched.add_job(self.job(self._leader_job), "interval", seconds=every, id=self.prefix + PUBLISH_JOB,
                      args=[PUBLISH_JOB, self.publish_job], misfire_grace_time=every, next_run_time=now,
                      replace_existing=True)  # fmt: skip
        try:
            with self.rt.store.write() as db:
                for other in db.exec(select(Node).where(col(Node.leader), Node.name != self.daemon.node)):
                    other.leader = False  # we hold the lock: whoever the table says leads is gone
            self._record_node(leader_since=utcnow())
        except Exception as exc:
            log.warning("cannot record the leadership: %s", exc)

    def _demote(self, why: str, level: int = logging.ERROR) -> None:
        self.leader = False
        what = f"channel {self.name}" if self.name else "the scheduler"
        log.log(level, "%s no longer leads %s: %s", self.daemon.node, what, why, extra={"event": "follower"})
        own = (self.prefix + PUBLISH_JOB, self.prefix + "poll:")
        for job in [j for j in self.daemon.scheduler.get_jobs() if j.id == own[0] or j.id.startswith(own[1])]:
            with contextlib.suppress(JobLookupError):
                self.daemon.scheduler.remove_job(job.id)

    def _hand_over(self) -> None:
        """Lets another node lead this channel: this one leads more than its share."""
        assert self.leadership is not None
        if not self._publish_lock.acquire(blocking=False):
            return  # a round is running: hand over after it, never in its middle
        try:
            self._demote("handed over, this node leads more than its share of the channels", logging.INFO)
            self.leadership.release()
            with contextlib.suppress(Exception):  # the next heartbeat says it anyway
                self._record_node()
        finally:
            self._publish_lock.release()

    def _leader_job(self, job: str, fn: Callable[..., None], *args: Any) -> None:
        """Runs a leader's job only while this node still holds the lock (checked, not assumed)."""
        if self.daemon.stopping.is_set() or not self.leader or self.leadership is None:
            return
        if not self.leadership.held():
            with self.daemon.role:
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

        rt = self.rt
        if rt is None or rt.stopping.is_set():
            return
        try:
            report = poll_source(rt, name)
        except TvPusherError as exc:
            log.error("poll of %s failed: %s", name, exc, extra={"source": name})
            return
        except Exception:  # a bug in one source must not stop the daemon
            log.exception("poll of %s crashed", name, extra={"source": name})
            return
        log.info("polled %s: %s, %d new, %d changed, %d withdrawn", name, report.status, report.new, report.changed, report.withdrawn,
                 extra={"source": name, "event": "poll", "status": report.status})  # fmt: skip
        if report.changed_anything and not rt.stopping.is_set():
            self.wake_publish()

    def wake_publish(self) -> None:
        if self._publish_lock.locked():
            self._again.set()  # the running round picks the new work up before it returns
            return
        try:
            self.daemon.scheduler.modify_job(self.prefix + PUBLISH_JOB, next_run_time=datetime.now(self.daemon.tz))
        except Exception:  # shutting down, or no longer the leader
            log.debug("could not wake the publish job", exc_info=True)

    def publish_job(self) -> None:
        from pusher.ops import run_round

        rt = self.rt
        assert rt is not None
        daemon = self.daemon
        steps: dict[str, Callable[[Callable[[], object]], object]] = {
            "screen": lambda fn: daemon.locked(self._screen_lock, fn),
            "render": lambda fn: daemon.locked(self._render_lock, lambda: daemon.rendering(fn)),
            "deliver": lambda fn: daemon.locked(self._deliver_lock, fn),
        }

        def wrap(step: str, fn: Callable[[], object]) -> None:
            around = steps.get(step)
            self._guarded(step, fn if around is None else lambda: around(fn))

        with self._publish_lock:
            self._again.set()
            while self._again.is_set() and not rt.stopping.is_set():
                self._again.clear()
                if run_round(rt, wrap=wrap).stopped:
                    return
        # A wake-up that came after the loop's last look but before the lock was released
        # would otherwise wait for the next interval.
        if self._again.is_set() and not rt.stopping.is_set():
            self.wake_publish()

    # -- plumbing --------------------------------------------------------------------------------

    def _guarded(self, name: str, fn: Callable[[], object]) -> None:
        assert self.rt is not None
        lost = self.rt.store.lost
        if lost:
            # The database file went away under us: no step may run against another one. Said
            # once here; /healthz answers 503 with the reason until an operator restarts.
            if not self.said_lost:
                self.said_lost = True
                log.error("stopping work: %s", lost, extra={"event": "store_lost"})
            return
        try:
            fn()
        except TvPusherError as exc:
            log.error("%s failed: %s", name, exc)
        except Exception:  # a bug in one stage must not stop the daemon
            log.exception("%s crashed", name)

    def _record_node(self, *, leader_since: datetime | None = None, stopped: bool = False) -> None:
        assert self.rt is not None
        node, started_at = self.daemon.node, self.daemon.started_at
        with self.rt.store.write() as db:
            row = db.get(Node, node) or Node(name=node, started_at=started_at)
            row.host, row.pid, row.seen_at = socket.gethostname(), os.getpid(), utcnow()
            if row.started_at != started_at:  # a restarted node that reuses its name
                row.started_at, row.leader_since = started_at, None
            row.leader = self.leader and not stopped
            row.stopped_at = utcnow() if stopped else None
            if leader_since is not None:
                row.leader_since = leader_since
            elif not row.leader:
                row.leader_since = None
            db.add(row)

    def _read_peers(self) -> None:
        """Who else serves this channel now (the heartbeats in its store), and whether one leads it."""
        assert self.rt is not None
        since = utcnow() - timedelta(seconds=self.daemon.settings.daemon.scheduler_stuck_after)
        with self.rt.store.read() as db:
            rows = db.exec(select(Node.name, Node.leader).where(col(Node.seen_at) >= since, col(Node.stopped_at).is_(None))).all()
        self.peers = {name for name, _ in rows} | {self.daemon.node}
        self.led_elsewhere = any(lead and name != self.daemon.node for name, lead in rows)

    def stop(self) -> None:
        if self.rt is None:
            return
        try:
            claims.release_items(self.rt.store, self.daemon.node)
            self._record_node(stopped=True)
        except Exception as exc:
            log.warning("cannot hand back claims on exit (their leases will run out): %s", exc)
        if self.leadership is not None:
            self.leadership.release()
        self.leader = False


class Daemon:
    """``Daemon(rt)``: one channel; :meth:`serving` every channel of a deployment."""

    def __init__(self, rt: Runtime | None = None, *, channels: Sequence[Channel] = ()) -> None:
        from pusher import logs

        if rt is not None:
            named: list[tuple[str, Settings, Runtime | None]] = [("", rt.settings, rt)]
            self.stopping = rt.stopping
        else:
            named = [(c.name, c.settings, None) for c in channels]
            self.stopping = threading.Event()
        if not named:
            raise ValueError("a daemon serves at least one channel")
        self.settings = named[0][1]  # [daemon] and the process's time zone: the same in every channel
        d = self.settings.daemon
        self.node = d.node_name()
        for _, s, _ in named:
            logs.register_secrets(s)
        self.tz = ZoneInfo(self.settings.channel.timezone)
        jobs = sum(len(s.sources) + 6 for _, s, _ in named)
        self.scheduler = BlockingScheduler(
            timezone=self.tz,
            # Room for every job at once, so that a slow poll never delays the heartbeat: only a
            # stuck scheduler (or every worker thread hung) stops the watchdog.
            executors={"default": ThreadPoolExecutor(max_workers=jobs + 1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.started_at = utcnow()
        self.role = threading.Lock()  # promote / demote / hand over
        # Render steps of all channels at once would only share the cores and add up their
        # memory: two at a time keep both cores busy (one drawing while the other reads the store).
        self._renders = threading.BoundedSemaphore(2)
        self._signals = 0
        self._shutdown: threading.Thread | None = None
        self._last_beat: float | None = None
        self.health: Any = None
        self.channels = [ChannelWork(self, name, s, r) for name, s, r in named]
        self.several = bool(named[0][0])
        wd = watchdog_interval()
        self.beat_every = min(d.heartbeat, wd / 3) if wd else d.heartbeat
        now = datetime.now(self.tz)
        self.scheduler.add_job(self.heartbeat_job, "interval", seconds=self.beat_every, id="heartbeat", next_run_time=now,
                               misfire_grace_time=None)  # fmt: skip
        for cw in self.channels:
            cw.add_jobs(now, self.beat_every)
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        sched_log = logging.getLogger("apscheduler.scheduler")
        if not any(isinstance(f, _Coalesced) for f in sched_log.filters):
            sched_log.addFilter(_Coalesced())

    @classmethod
    def serving(cls, channels: Sequence[Channel]) -> Daemon:
        """The daemon of every channel of a deployment (their stores opened by the elections)."""
        return cls(channels=channels)

    # -- one channel's view, as before ----------------------------------------------------------

    @property
    def rt(self) -> Runtime:
        rt = self.channels[0].rt
        assert rt is not None
        return rt

    @property
    def leader(self) -> bool:
        """True if this node leads a channel (the only one, for one channel)."""
        return any(cw.leader for cw in self.channels)

    # -- the share of leaderships ---------------------------------------------------------------

    def leads(self) -> int:
        return sum(cw.leader for cw in self.channels)

    def share(self) -> int:
        """The channels this node may lead: all of them over the live nodes, rounded up."""
        nodes: set[str] = {self.node}
        for cw in self.channels:
            nodes |= cw.peers
        return math.ceil(len(self.channels) / len(nodes))

    def may_lead(self, cw: ChannelWork) -> bool:
        if not self.several or self.leads() < self.share():
            cw.unled_elections = 0
            return True
        # Past its share: only a channel nobody has taken for a few elections (the other nodes
        # cannot reach its database, or are busy starting).
        cw.unled_elections = 0 if cw.led_elsewhere else cw.unled_elections + 1
        return cw.unled_elections > UNLED_ELECTIONS

    def surplus(self, cw: ChannelWork) -> bool:
        """Whether to hand ``cw`` over now: this node leads more than its share, another live node
        serves the channel, and this node has led it for a few elections (no ping-pong)."""
        if not self.several or cw.took_unled or self.leads() <= self.share():
            return False
        settled = time.monotonic() - cw.led_since > UNLED_ELECTIONS * self.settings.daemon.election_interval
        return settled and len(cw.peers - {self.node}) > 0

    # -- every node ------------------------------------------------------------------------------

    def heartbeat_job(self) -> None:
        self._last_beat = time.monotonic()
        notify("WATCHDOG=1")

    def beat_age(self) -> float | None:
        return None if self._last_beat is None else time.monotonic() - self._last_beat

    def rendering(self, fn: Callable[[], object]) -> object:
        with self._renders:
            return fn()

    @staticmethod
    def locked(lock: threading.Lock, fn: Callable[[], object]) -> object:
        with lock:
            return fn()

    @staticmethod
    def if_free(lock: threading.Lock, fn: Callable[[], object]) -> object:
        """Runs ``fn`` unless this process is doing that work already (then it has it in hand)."""
        if not lock.acquire(blocking=False):
            return None
        try:
            return fn()
        finally:
            lock.release()

    # -- plumbing --------------------------------------------------------------------------------

    def _on_started(self, _event: SchedulerEvent) -> None:
        notify("READY=1", f"STATUS=node {self.node}: scheduler running")
        log.info("scheduler started on %s", self.node, extra={"event": "ready"})
        if self.stopping.is_set():  # the signal came while the daemon was starting
            self._stop_scheduler()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("second signal: exiting at once")
            os._exit(1)
        notify("STOPPING=1", "STATUS=draining")
        log.info("signal %d: finishing the current step, then stopping", signum, extra={"event": "stopping"})
        self.stopping.set()
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
        address = self.settings.daemon.health_address()
        if address is None:
            return
        from pusher.daemon.health import ChannelsHealthServer, HealthServer
        from pusher.ops.health import process_problems
        from pusher.ops.status import collect_status

        try:
            if not self.several:
                rt = self.rt
                self.health = HealthServer(address, lambda: collect_status(rt), rt.settings, self.beat_age,
                                           lambda: self.leader, lambda: process_problems(rt)).start()  # fmt: skip
            else:
                self.health = ChannelsHealthServer(address, self.channels, self.beat_age, lambda: self.leader).start()
        except OSError as exc:  # the port is taken: run without it rather than not at all
            log.error("cannot serve health and metrics on %s:%d: %s", *address, exc)

    def run(self) -> None:
        from pusher import logs

        logs.set_node(self.node)
        if self.several:
            for h in logging.getLogger().handlers:
                if not any(isinstance(f, _ChannelStamp) for f in h.filters):
                    h.addFilter(_ChannelStamp())
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for cw in self.channels:
            if cw.rt is not None:
                released = claims.release_dead(cw.rt.store) + claims.release_items(cw.rt.store, self.node)
                if released:
                    log.info("took back %d render claims of dead processes", released)
        self._start_health()
        if self.several:
            log.info("daemon %s started: %d channels (%s)", self.node, len(self.channels), ", ".join(cw.name for cw in self.channels))
        else:
            s = self.settings
            log.info("daemon %s started: %d sources, %d targets", self.node, len(s.sources), len(s.targets))
        try:
            self.scheduler.start()
            if self._shutdown is not None:
                self._shutdown.join()  # the running jobs have returned
        finally:
            self._stop()
        log.info("daemon stopped")

    def _stop(self) -> None:
        for cw in self.channels:
            cw.stop()
        if self.health is not None:
            self.health.stop()
