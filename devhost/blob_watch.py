"""What one blob-triggered function watches: its path pattern, the blobs pending, the receipts written.

Every blob version (name + ETag) is handed to a function once: after a success (or after
poisoning) a receipt blob ``blobreceipts/<hostId>/<function>/<container>/<blob>`` with the
ETag in its metadata is written to the ``azure-webjobs-hosts`` container, so a restarted
host does not run it again.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Iterator

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobProperties

from .blob_storage import plain_etag, service_client
from .functions import FunctionInfo
from .settings import resolve, storage_connection_string

RECEIPTS_CONTAINER = "azure-webjobs-hosts"

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


class BlobWatch:
    """The polling state of one blob-triggered function: receipts, blobs in flight, failure counts.

    Raises KeyError (unset setting or connection) or ValueError (bad path) for a trigger
    that cannot be watched.
    """

    def __init__(self, fn: FunctionInfo, host_id: str, threshold: int):
        self.fn = fn
        self.host_id = host_id
        self.threshold = threshold
        self.path = BlobPath.parse(resolve(fn.trigger.path))
        self.connection = storage_connection_string(fn.trigger.connection)
        self.service = service_client(self.connection)
        try:
            receipts_connection = storage_connection_string("AzureWebJobsStorage")
        except KeyError:
            receipts_connection = self.connection
        self.receipts_service = service_client(receipts_connection)
        self.container = self.service.get_container_client(self.path.container)
        self.receipts_container = self.receipts_service.get_container_client(RECEIPTS_CONTAINER)
        self.receipt_prefix = f"blobreceipts/{host_id}/{fn.name}/{self.path.container}/"
        self.receipts: dict[str, str] | None = None  # blob name -> ETag handled
        self.failing = False  # the last poll of this container failed
        self._failures: dict[tuple[str, str], int] = {}
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()

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
            receipts[item.name[len(self.receipt_prefix):]] = plain_etag((item.metadata or {}).get("etag"))
        self.receipts = receipts

    def pending(self) -> Iterator[BlobProperties]:
        """Blobs matching the path whose current version has no receipt and is not running.

        Each blob yielded is in flight until ``release(name)``.
        """
        self.ensure_ready()
        for props in self.container.list_blobs(name_starts_with=self.path.prefix or None, include=["metadata"]):
            if self.path.matches(props.name) and self._take(props):
                yield props

    def claim(self, name: str) -> BlobProperties | None:
        """The named blob's current version if it matches the path, has no receipt and is not running.

        An Event Grid event's way in: the same receipts and in-flight set as the scan, so a blob
        that both report runs once. The blob is in flight until ``release(name)``; None for a
        blob that is gone, handled, running or outside the path.
        """
        self.ensure_ready()
        if not self.path.matches(name):
            return None
        try:
            props = self.container.get_blob_client(name).get_blob_properties()
        except ResourceNotFoundError:
            return None
        return props if self._take(props) else None

    def _take(self, props: BlobProperties) -> bool:
        with self._lock:
            if self.receipts.get(props.name) == plain_etag(props.etag) or props.name in self._in_flight:
                return False
            self._in_flight.add(props.name)
            return True

    def release(self, name: str) -> None:
        """The blob is no longer being handled; a later poll may pick it up again."""
        with self._lock:
            self._in_flight.discard(name)

    def write_receipt(self, name: str, etag: str) -> None:
        """Mark this version of the blob handled, here and for restarted hosts."""
        self.receipts_container.upload_blob(
            self.receipt_prefix + name, b"", overwrite=True, metadata={"etag": etag}
        )
        with self._lock:
            self.receipts[name] = etag
        self._failures.pop((name, etag), None)

    def count_failure(self, name: str, etag: str) -> int:
        """Count one more failed try of this blob version; returns the tries so far."""
        tries = self._failures.get((name, etag), 0) + 1
        self._failures[(name, etag)] = tries
        return tries
