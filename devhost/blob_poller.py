"""Blob triggers by container polling, with receipts and a poison queue like the real host.

Every blob version (name + ETag) is handed to a function once: after a success (or after
poisoning) a receipt blob ``blobreceipts/<hostId>/<function>/<container>/<blob>`` with the
ETag in its metadata is written to the ``azure-webjobs-hosts`` container, so a restarted
host does not run it again. Failed versions are retried on later polls; the
``poisonBlobThreshold``-th failure sends a message to ``webjobs-blobtrigger-poison``.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import azure.functions as func
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobClient, BlobProperties, BlobServiceClient, LinearRetry

from .functions import FunctionInfo, Invocation
from .settings import resolve, storage_connection_string

log = logging.getLogger("devhost")

RECEIPTS_CONTAINER = "azure-webjobs-hosts"
POISON_QUEUE = "webjobs-blobtrigger-poison"
DEFAULT_POISON_THRESHOLD = 5
# Small download ranges keep memory flat when a function streams a big blob.
CHUNK_BYTES = 4 * 1024 * 1024
# The SDK default (exponential, 15 s first backoff, 10 tries) would stall the poll loop and
# a graceful stop for minutes while storage is down; the next poll retries anyway.
RETRY = {"backoff": 0.5, "retry_total": 3, "random_jitter_range": 0.2}

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class BlobPath:
    """A trigger path such as ``data/incoming/{name}``: container, list prefix and name pattern."""

    container: str
    prefix: str
    pattern: re.Pattern

    @classmethod
    def parse(cls, path: str) -> "BlobPath":
        container, sep, rest = path.strip("/").partition("/")
        if not container or "{" in container:
            raise ValueError(f"blob trigger path {path!r} needs a fixed container name")
        rest = rest if sep else "{name}"
        regex, pos = "", 0
        for match in _PARAM.finditer(rest):
            regex += re.escape(rest[pos:match.start()]) + f"(?P<{match.group(1)}>.+)"
            pos = match.end()
        regex += re.escape(rest[pos:])
        prefix = rest.split("{", 1)[0]
        return cls(container, prefix, re.compile(regex, re.DOTALL))

    def matches(self, blob_name: str) -> bool:
        return self.pattern.fullmatch(blob_name) is not None


def _etag(value: str | None) -> str:
    return (value or "").strip('"')


def service_client(connection_string: str) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(
        connection_string, max_single_get_size=CHUNK_BYTES, max_chunk_get_size=CHUNK_BYTES,
        retry_policy=LinearRetry(**RETRY),
    )


class BlobInputStream(func.InputStream):
    """``func.InputStream`` that downloads on demand, in chunks, as the function reads."""

    def __init__(self, blob: BlobClient, *, name: str, length: int | None,
                 blob_properties: dict | None = None, metadata: dict | None = None):
        super().__init__()
        self._blob = blob
        self._name = name
        self._length = length
        self._blob_properties = blob_properties
        self._metadata = metadata
        self._chunks: Iterator[bytes] | None = None
        self._buffer = b""
        self._eof = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def length(self) -> int | None:
        return self._length

    @property
    def uri(self) -> str:
        return self._blob.url

    @property
    def blob_properties(self) -> dict | None:
        return self._blob_properties

    @property
    def metadata(self) -> dict | None:
        return self._metadata

    def _next_chunk(self) -> bool:
        if self._eof:
            return False
        if self._chunks is None:
            self._chunks = iter(self._blob.download_blob().chunks())
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [self._buffer]
            self._buffer = b""
            while self._next_chunk():
                parts.append(self._buffer)
                self._buffer = b""
            return b"".join(parts)
        while len(self._buffer) < size and self._next_chunk():
            pass
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read1(self, size: int = -1) -> bytes:
        if not self._buffer:
            self._next_chunk()
        if size is None or size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False


def make_stream(blob: BlobClient, container: str, props: BlobProperties) -> BlobInputStream:
    settings = props.content_settings
    properties = {
        "BlobType": str(getattr(props.blob_type, "value", props.blob_type)),
        "ContentType": getattr(settings, "content_type", None),
        "ContentEncoding": getattr(settings, "content_encoding", None),
        "ETag": _etag(props.etag),
        "LastModified": props.last_modified.isoformat() if props.last_modified else None,
        "CreatedOn": props.creation_time.isoformat() if props.creation_time else None,
        "Length": props.size,
    }
    return BlobInputStream(
        blob, name=f"{container}/{props.name}", length=props.size,
        blob_properties=properties, metadata=dict(props.metadata or {}),
    )


class BlobWatch:
    """The polling state of one blob-triggered function."""

    def __init__(self, fn: FunctionInfo, host_id: str, threshold: int):
        self.fn = fn
        self.host_id = host_id
        self.threshold = threshold
        self.path = BlobPath.parse(resolve(fn.trigger.path))
        connection = storage_connection_string(fn.trigger.connection)
        self.service = service_client(connection)
        self._connection = connection
        try:
            receipts_connection = storage_connection_string("AzureWebJobsStorage")
        except KeyError:
            receipts_connection = connection
        self.receipts_service = service_client(receipts_connection)
        self.container = self.service.get_container_client(self.path.container)
        self.receipts_container = self.receipts_service.get_container_client(RECEIPTS_CONTAINER)
        self.receipt_prefix = f"blobreceipts/{host_id}/{fn.name}/{self.path.container}/"
        self.receipts: dict[str, str] | None = None  # blob name -> ETag handled
        self.failures: dict[tuple[str, str], int] = {}
        self.in_flight: set[str] = set()
        self.lock = threading.Lock()
        self.failing = False

    def ensure_ready(self) -> None:
        """Create the containers and load the receipts (once)."""
        if self.receipts is not None:
            return
        for container in (self.container, self.receipts_container):
            try:
                container.create_container()
            except ResourceExistsError:
                pass
        receipts = {}
        for item in self.receipts_container.list_blobs(name_starts_with=self.receipt_prefix, include=["metadata"]):
            receipts[item.name[len(self.receipt_prefix):]] = _etag((item.metadata or {}).get("etag"))
        self.receipts = receipts

    def pending(self) -> Iterator[BlobProperties]:
        """Blobs matching the path whose current version has no receipt and is not running."""
        self.ensure_ready()
        for props in self.container.list_blobs(name_starts_with=self.path.prefix or None, include=["metadata"]):
            if not self.path.matches(props.name):
                continue
            with self.lock:
                if self.receipts.get(props.name) == _etag(props.etag) or props.name in self.in_flight:
                    continue
                self.in_flight.add(props.name)
            yield props

    def write_receipt(self, name: str, etag: str) -> None:
        self.receipts_container.upload_blob(
            self.receipt_prefix + name, b"", overwrite=True, metadata={"etag": etag}
        )
        with self.lock:
            self.receipts[name] = etag

    def send_poison(self, name: str, etag: str, blob_type: str) -> None:
        from azure.storage.queue import LinearRetry as QueueRetry
        from azure.storage.queue import QueueClient, TextBase64EncodePolicy

        message = {
            "Type": "BlobTrigger",
            "FunctionId": f"Host.Functions.{self.fn.name}",
            "BlobType": blob_type,
            "ContainerName": self.path.container,
            "BlobName": name,
            "ETag": etag,
        }
        queue = QueueClient.from_connection_string(
            self._connection, POISON_QUEUE, message_encode_policy=TextBase64EncodePolicy(),
            retry_policy=QueueRetry(**RETRY),
        )
        try:
            queue.create_queue()
        except ResourceExistsError:
            pass
        queue.send_message(json.dumps(message))


def decode_poison_message(content: str) -> dict[str, Any]:
    """Read a poison message (base64 JSON, the Functions queue default) - for tools and tests."""
    return json.loads(base64.b64decode(content))


class BlobPoller:
    """Polls the containers of all blob-triggered functions and runs them on a thread pool."""

    def __init__(
        self,
        functions: list[FunctionInfo],
        host_id: str,
        run: Callable[[FunctionInfo, object, str], Invocation],
        poll_interval: float = 1.0,
        workers: int = 4,
        poison_threshold: int = DEFAULT_POISON_THRESHOLD,
    ):
        self._run = run
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
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def poll_once(self) -> None:
        for watch in self.watches:
            if self._stop.is_set():
                return
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

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.poll_interval)

    def _process(self, watch: BlobWatch, props: BlobProperties) -> None:
        name, etag = props.name, _etag(props.etag)
        try:
            stream = make_stream(watch.container.get_blob_client(name), watch.path.container, props)
            reason = f"New blob detected(LogsAndContainerScan): {watch.path.container}/{name}"
            if self._run(watch.fn, stream, reason).succeeded:
                watch.write_receipt(name, etag)
                watch.failures.pop((name, etag), None)
                return
            tries = watch.failures.get((name, etag), 0) + 1
            watch.failures[(name, etag)] = tries
            if tries >= watch.threshold:
                log.error("Blob '%s/%s' failed %d times in 'Functions.%s': moved to queue '%s'",
                          watch.path.container, name, tries, watch.fn.name, POISON_QUEUE)
                watch.send_poison(name, etag, stream.blob_properties["BlobType"])
                watch.write_receipt(name, etag)
                watch.failures.pop((name, etag), None)
        except Exception as error:  # noqa: BLE001 - a storage error here is retried on the next poll
            log.warning("Handling blob '%s/%s' failed: %s", watch.path.container, name, error)
        finally:
            with watch.lock:
                watch.in_flight.discard(name)

    def run_manual(self, fn: FunctionInfo, blob_path: str) -> None:
        """Run a blob function by hand for ``container/name`` (no receipt is written)."""
        container, _, name = blob_path.strip("/").partition("/")
        service = service_client(storage_connection_string(fn.trigger.connection))
        blob = service.get_blob_client(container, name)
        stream = make_stream(blob, container, blob.get_blob_properties())
        self._run(fn, stream, "This function was programmatically called via the host APIs.")
