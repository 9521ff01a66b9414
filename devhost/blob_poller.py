"""Blob triggers by container polling, like the real host's scan: a loop and a worker pool.

Each poll lists every watched container (see ``blob_watch``) and hands new blob versions
to the pool. Failed versions are retried on later polls; the ``poisonBlobThreshold``-th
failure sends a message to the poison queue (see ``blob_poison``) and writes the receipt.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from azure.storage.blob import BlobProperties

from .blob_binding import trigger_value
from .blob_poison import POISON_QUEUE, send_poison_message
from .blob_storage import plain_etag
from .blob_stream import blob_type_name
from .blob_watch import BlobWatch
from .functions import FunctionInfo, Invocation

log = logging.getLogger("devhost")

DEFAULT_POISON_THRESHOLD = 5


class BlobPoller:
    """Polls the containers of all blob-triggered functions and runs them on a thread pool.

    A function whose trigger cannot be watched (unset setting or connection, bad path) is
    logged as disabled; the others keep running.
    """

    def __init__(
        self,
        functions: list[FunctionInfo],
        host_id: str,
        run: Callable[[FunctionInfo, object, str], Invocation],
        poll_interval: float = 1.0,
        workers: int = 4,
        poison_threshold: int = DEFAULT_POISON_THRESHOLD,
        scan_event_grid_sources: bool = True,
    ):
        self._run = run
        # The real host never scans for a source=EventGrid trigger: only the blobs webhook runs it.
        # Off here when something delivers the events as Event Grid does (the Azure emulator).
        self.scan_event_grid_sources = scan_event_grid_sources
        self.poll_interval = poll_interval
        self.watches: list[BlobWatch] = []
        for fn in functions:
            try:
                self.watches.append(BlobWatch(fn, host_id, max(1, poison_threshold)))
            except (KeyError, ValueError) as error:
                log.error("Blob trigger 'Functions.%s' disabled: %s", fn.name, error)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blob")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="blob-poller", daemon=True)

    def start(self) -> None:
        if self.watches:
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling, drop queued blobs and wait for the running ones."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def poll_once(self) -> None:
        for watch in self.watches:
            if self._stop.is_set():
                return
            if not self.scan_event_grid_sources and is_event_grid_source(watch.fn):
                continue
            try:
                for props in watch.pending():
                    self._pool.submit(self._process, watch, props)
            except Exception as error:  # noqa: BLE001 - storage may be down for a while; keep polling
                if not watch.failing:  # once per outage, not once a second
                    log.warning("Polling container '%s' for 'Functions.%s' failed (will keep trying): %s",
                                watch.path.container, watch.fn.name, error)
                watch.failing = True
                continue
            if watch.failing:
                log.info("Polling container '%s' for 'Functions.%s' works again", watch.path.container, watch.fn.name)
                watch.failing = False

    def notify(self, function_name: str, container: str, name: str) -> bool:
        """A blob event (the blobs webhook) for one function: the blob is queued on the pool now,
        unless a receipt or a run in progress already covers its current version. False when no
        watched function of that name watches that container."""
        watch = next((w for w in self.watches if w.fn.name.lower() == function_name.lower()), None)
        if watch is None or watch.path.container != container or self._stop.is_set():
            return False
        props = watch.claim(name)
        if props is not None:
            try:
                self._pool.submit(self._process, watch, props, "EventGrid")
            except RuntimeError:  # stopping: the pool takes no more work, a later scan will
                watch.release(name)
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.poll_interval)

    def _process(self, watch: BlobWatch, props: BlobProperties, source: str = "LogsAndContainerScan") -> None:
        name, etag = props.name, plain_etag(props.etag)
        try:
            value = trigger_value(watch.fn, watch.path.container, name, props, watch.container.get_blob_client(name))
            reason = f"New blob detected({source}): {watch.path.container}/{name}"
            if self._run(watch.fn, value, reason).succeeded:
                watch.write_receipt(name, etag)
                return
            tries = watch.count_failure(name, etag)
            if tries >= watch.threshold:
                log.error("Blob '%s/%s' failed %d times in 'Functions.%s': moved to queue '%s'",
                          watch.path.container, name, tries, watch.fn.name, POISON_QUEUE)
                send_poison_message(watch.connection, watch.fn.name, watch.path.container, name, etag,
                                    blob_type_name(props))
                watch.write_receipt(name, etag)
        except Exception as error:  # noqa: BLE001 - a storage error here is retried on the next poll
            log.warning("Handling blob '%s/%s' failed: %s", watch.path.container, name, error)
        finally:
            watch.release(name)


def is_event_grid_source(fn: FunctionInfo) -> bool:
    """A blob trigger declared with source=EventGrid (run by blob events, not by container scans)."""
    source = getattr(fn.trigger, "source", None)
    return str(getattr(source, "value", source) or "").lower() == "eventgrid"
