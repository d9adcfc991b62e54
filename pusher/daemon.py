"""The daemon: one APScheduler ``BlockingScheduler`` that owns every job.

One poll job per source at its own interval, and one publish job (screen → render → publish →
deliver) that runs at the channel's interval and is woken at once when a poll found something.
Jobs coalesce, never overlap (``max_instances=1``) and may run late by up to their interval.
The first SIGTERM (or SIGINT) drains: stages finish the item in hand and the scheduler stops
after the running jobs return; a second one exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from .errors import TvPusherError
from .runtime import Runtime

log = logging.getLogger("tvpusher.daemon")

PUBLISH_JOB = "publish"


class Daemon:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        tz = ZoneInfo(rt.settings.channel.timezone)
        self.scheduler = BlockingScheduler(
            timezone=tz,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._publish_lock = threading.Lock()
        self._again = threading.Event()
        self._signals = 0
        self._shutdown: threading.Thread | None = None
        now = datetime.now(tz)
        for s in rt.settings.sources:
            if s.enabled:
                self.scheduler.add_job(self.poll_job, "interval", seconds=s.interval, id=f"poll:{s.name}", args=[s.name],
                                       misfire_grace_time=s.interval, next_run_time=now)  # fmt: skip
        every = rt.settings.channel.publish_interval
        self.scheduler.add_job(self.publish_job, "interval", seconds=every, id=PUBLISH_JOB, misfire_grace_time=every, next_run_time=now)

    def poll_job(self, name: str) -> None:
        from .stages import poll_source

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
                 extra={"source": name})  # fmt: skip
        if report.changed_anything and not self.rt.stopping.is_set():
            self.wake_publish()

    def wake_publish(self) -> None:
        if self._publish_lock.locked():
            self._again.set()  # the running round picks the new work up before it returns
            return
        try:
            self.scheduler.modify_job(PUBLISH_JOB, next_run_time=datetime.now(self.scheduler.timezone))
        except Exception:  # the scheduler is shutting down: the next start publishes
            log.debug("could not wake the publish job", exc_info=True)

    def publish_job(self) -> None:
        from .stages import deliver, publish, render_items, screen_items

        with self._publish_lock:
            self._again.set()
            while self._again.is_set():
                self._again.clear()
                for stage in (screen_items, render_items, publish, deliver):
                    if self.rt.stopping.is_set():
                        return
                    try:
                        stage(self.rt)
                    except TvPusherError as exc:
                        log.error("%s failed: %s", stage.__name__, exc)
                    except Exception:
                        log.exception("%s crashed", stage.__name__)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("second signal: exiting at once")
            os._exit(1)
        log.info("signal %d: finishing the current step, then stopping", signum)
        self.rt.stopping.set()
        # shutdown() joins the worker threads; do it off the signal handler so that a second
        # signal can still be received while we wait.
        self._shutdown = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}, name="shutdown", daemon=True)
        self._shutdown.start()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        log.info("daemon started: %d sources, %d targets", len(self.rt.settings.sources), len(self.rt.settings.targets))
        self.scheduler.start()
        if self._shutdown is not None:
            self._shutdown.join()  # the running jobs have returned
        log.info("daemon stopped")
