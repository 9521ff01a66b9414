"""Admin-API runs: a timer, Event Grid or blob function started by hand, in a background thread."""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

from .functions import BLOB, EVENT_GRID, QUEUE, TIMER, FunctionInfo, Invocation
from .registry import HOST_API_REASON

log = logging.getLogger("devhost")


class ManualRuns:
    """Starts admin-API runs with ``run`` and lets the host wait for them when it stops.

    The input is the admin API's ``input`` text: ignored for a timer, the event JSON for
    Event Grid, ``container/blob`` for a blob function (no receipt is written for it), the
    message body for a queue function (run directly, not through its queue).
    """

    def __init__(self, run: Callable[[FunctionInfo, Any, str], Invocation]):
        self._run = run
        self._threads: list[threading.Thread] = []

    def start(self, fn: FunctionInfo, text: str) -> None:
        """Run ``fn`` in the background with the admin API's input; errors are logged, not raised."""
        thread = threading.Thread(target=self._execute, args=(fn, text), name=f"manual-{fn.name}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def join(self, timeout: float = 10.0) -> None:
        """Wait for the runs still going, each up to ``timeout`` seconds."""
        for thread in self._threads:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("Manual run %s still running after %.0fs; not waiting for it", thread.name, timeout)
        self._threads = []

    def _execute(self, fn: FunctionInfo, text: str) -> None:
        try:
            if fn.trigger_type == TIMER:
                from azure.functions.timer import TimerRequest

                self._run(fn, TimerRequest(past_due=False), HOST_API_REASON)
            elif fn.trigger_type == EVENT_GRID:
                from . import eventgrid

                self._run(fn, eventgrid.to_trigger_value(json.loads(text), fn.trigger_annotation), HOST_API_REASON)
            elif fn.trigger_type == BLOB:
                self._run(fn, _blob_value(fn, text), HOST_API_REASON)
            elif fn.trigger_type == QUEUE:
                import uuid

                from azure.functions.queue import QueueMessage

                self._run(fn, QueueMessage(id=str(uuid.uuid4()), body=text, dequeue_count=1), HOST_API_REASON)
        except Exception:  # noqa: BLE001 - e.g. the named blob does not exist
            log.exception("Manual run of 'Functions.%s' could not start", fn.name)


def _blob_value(fn: FunctionInfo, blob_path: str) -> Any:
    """The trigger value for ``container/name`` in the storage account of ``fn``'s connection."""
    # The storage SDK loads only when a blob function is run by hand (cold start).
    from .blob_binding import trigger_value

    container, _, name = blob_path.strip("/").partition("/")
    return trigger_value(fn, container, name)
