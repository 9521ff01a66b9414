"""Microsoft.Storage.BlobCreated from Azurite, which emits no events: a thread lists the data
container every `interval` seconds and publishes one event (Azure's data shape) for every blob
that is new, or has a new ETag, since the previous listing. Blobs already there at the first
listing are not announced (they were created before the subscription)."""
from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from typing import Any, Callable
from urllib.parse import quote

from emulators.azure.eventgrid import deadletter

log = logging.getLogger("azure_emulator.eventgrid")


def blob_created_event(config, container: str, blob: Any, sequence: int) -> dict[str, Any]:
    """The BlobCreated event of a listed blob (azure.storage.blob BlobProperties)."""
    etag = str(blob.etag).strip('"')
    blob_type = str(getattr(blob.blob_type, "value", blob.blob_type))
    return {
        "topic": config.storage_account_id,
        "subject": f"/blobServices/default/containers/{container}/blobs/{blob.name}",
        "eventType": "Microsoft.Storage.BlobCreated",
        "id": str(uuid.uuid4()),
        "data": {
            "api": "PutBlob",  # a listing cannot tell PutBlob from PutBlockList or CopyBlob
            "clientRequestId": str(uuid.uuid4()),
            "requestId": str(uuid.uuid4()),
            "eTag": etag,
            "contentType": blob.content_settings.content_type or "application/octet-stream",
            "contentLength": blob.size,
            "blobType": blob_type,
            "url": f"https://{config.storage_account}.blob.{config.blob_suffix}/{container}/{quote(blob.name, safe='/')}",
            "sequencer": f"{sequence:032x}",  # 32 hex digits as in Azure's BlobCreated examples
            "storageDiagnostics": {"batchId": str(uuid.uuid4())},
        },
        "dataVersion": "",
        "metadataVersion": "1",
        "eventTime": deadletter.timestamp(time.time()),
    }


class BlobWatcher:
    """Polls one container and publishes BlobCreated events."""

    def __init__(self, config, blob_service: Callable[[], Any], publish: Callable[[str, dict], None],
                 interval: float = 0.5) -> None:
        self.config, self.blob_service, self.publish, self.interval = config, blob_service, publish, interval
        self.container = config.data_container
        self._seen: dict[str, str] | None = None
        self._sequence = itertools.count(1)
        self._stop = threading.Event()
        self.ready = threading.Event()  # set after the first successful listing
        self._thread = threading.Thread(target=self._run, name="eventgrid-blob-watcher", daemon=True)

    def start(self) -> "BlobWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def scan(self) -> int:
        """List once; publish the events of blobs new (or changed) since the previous listing."""
        container = self.blob_service().get_container_client(self.container)
        blobs = list(container.list_blobs()) if container.exists() else []
        current = {blob.name: str(blob.etag) for blob in blobs}
        previous, self._seen = self._seen, current
        if previous is None:
            self.ready.set()
            return 0
        new = [blob for blob in blobs if previous.get(blob.name) != str(blob.etag)]
        for blob in new:
            self.publish(self.config.storage_account_id,
                         blob_created_event(self.config, self.container, blob, next(self._sequence)))
        return len(new)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:  # noqa: BLE001 - Azurite not there yet or gone for a moment
                log.debug("blob listing failed", exc_info=True)
            self._stop.wait(self.interval)
