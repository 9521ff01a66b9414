"""Timer triggers: one thread per timer, UTC clock, never overlapping itself."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Callable

from azure.functions.timer import TimerRequest

from . import ncrontab
from .functions import FunctionInfo, Invocation

log = logging.getLogger("devhost")

# A tick that starts this much later than planned is reported as past due.
PAST_DUE_AFTER_SECONDS = 1.0


class TimerRunner:
    """Runs one timer function on its schedule until ``stop()``.

    The invocation runs on the timer's own thread, so a run that outlasts the
    interval makes the timer skip the ticks it missed instead of overlapping.
    """

    def __init__(
        self,
        fn: FunctionInfo,
        schedule: ncrontab.Schedule,
        run: Callable[[FunctionInfo, object, str], Invocation],
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        self.fn = fn
        self.schedule = schedule
        self._run = run
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"timer-{fn.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("Timer 'Functions.%s' still running after %.0fs; not waiting for it", self.fn.name, timeout)

    def _loop(self) -> None:
        if self.fn.trigger.run_on_startup:
            self._fire(self._clock(), past_due=False)
        due = self.schedule.next_after(self._clock())
        log.info("Timer 'Functions.%s' next run at %s UTC", self.fn.name, due.isoformat())
        while not self._stop.is_set():
            wait = (due - self._clock()).total_seconds()
            if wait > 0 and self._stop.wait(wait):
                return
            now = self._clock()
            self._fire(now, past_due=(now - due).total_seconds() > PAST_DUE_AFTER_SECONDS)
            # Ticks that passed while the function ran are skipped.
            due = self.schedule.next_after(max(due, self._clock()))

    def _fire(self, now: datetime, past_due: bool) -> None:
        if self._stop.is_set():
            return
        request = TimerRequest(past_due=past_due)
        self._run(self.fn, request, f"Timer fired at {now.isoformat()}")
