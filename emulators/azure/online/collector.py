"""Azure ML's data collector for MLflow deployments: the model inputs of each scored request as one
JSONL envelope line, appended to the workspace blob store (an append blob per deployment
instance and hour):

    modelDataCollector/<endpoint>/<deployment>/<collection>/<yyyy>/<MM>/<dd>/<HH>/<instance id>.jsonl

The envelope is the one Microsoft Learn shows in "Collect production data from models deployed
for real-time inferencing" (specversion, id, source, type azureml.inference.<collection>,
datacontenttype, time, data = the rows as {column: value} objects, contentrange, correlationid,
xrequestid, modelversion, collectdatatype, agent). Writes happen on one thread, off the request's
path, in the order requests were served.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable

log = logging.getLogger("azure_emulator.online")

ROOT = "modelDataCollector"
MODEL_INPUTS = "model_inputs"
MAX_LINE_BYTES = 4 * 1024 * 1024  # an append block's limit; Azure stores a bigger payload as a file of its own
AGENT = "azureml-emulator-mdc/1.0"


def enabled_collections(data_collector: dict | None) -> list[str]:
    """The collections a deployment's properties.dataCollector switches on (dataCollectionMode
    Enabled, in any case, as azure-ai-ml sends it in lower case); only model_inputs is collected
    for an MLflow deployment without a scoring script. ValueError when it is not an object or its
    collections are not one."""
    if data_collector is None:
        return []
    collections = data_collector.get("collections") or {} if isinstance(data_collector, dict) else None
    if not isinstance(collections, dict) or not all(isinstance(v, dict) for v in collections.values()):
        raise ValueError(f"dataCollector must be an object whose collections are objects: {data_collector!r:.200}")
    return [name for name, settings in collections.items()
            if name == MODEL_INPUTS and isinstance(settings, dict)
            and str(settings.get("dataCollectionMode", "")).lower() == "enabled"]


def blob_name(endpoint: str, deployment: str, collection: str, at: datetime, instance_id: str) -> str:
    return f"{ROOT}/{endpoint}/{deployment}/{collection}/{at:%Y/%m/%d/%H}/{instance_id}.jsonl"


def envelope(source: str, collection: str, columns: list[str], rows: list[list], request_id: str,
             at: datetime) -> bytes:
    """One JSONL line: the request's rows in the collector's envelope."""
    data = [dict(zip(columns, row)) for row in rows]
    payload = json.dumps(data, separators=(",", ":"))
    line = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
        "type": f"azureml.inference.{collection}", "datacontenttype": "application/json",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data,
        "contentrange": f"bytes 0-{len(payload) - 1}/{len(payload)}",
        "correlationid": request_id, "xrequestid": request_id, "modelversion": "default",
        "collectdatatype": "pandas.core.frame.DataFrame", "agent": AGENT,
    }
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


class DataCollector:
    """Appends envelopes to the workspace blob store's container; `blob_service` is called once,
    lazily (the emulator's BlobServiceClient on Azurite)."""

    def __init__(self, blob_service: Callable[[], Any], container: str):
        self._blob_service = blob_service
        self.container = container
        self._client = None
        self._created: set[str] = set()  # append blobs known to exist
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="data-collector")
        self._lock = threading.Lock()
        self.written = 0  # lines appended, for the state summary
        self.failed = 0

    def collect(self, name: str, line: bytes) -> Future | None:
        """Queue `line` for appending to blob `name`; the future is done once it is written (or failed).
        None once the collector is closed (the emulator is stopping: the line is lost)."""
        try:
            return self._writer.submit(self._append, name, line)
        except RuntimeError:
            return None

    def flush(self) -> None:
        """Wait for what is queued so far."""
        self._writer.submit(lambda: None).result()

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    def _append(self, name: str, line: bytes) -> None:
        if len(line) > MAX_LINE_BYTES:
            log.warning("data collector: a %d-byte envelope for %s is over the append block limit; not kept",
                        len(line), name)
            self.failed += 1
            return
        try:
            blob = self._container().get_blob_client(name)
            if name not in self._created:
                self._create(blob)
                self._created.add(name)
            blob.append_block(line)
            self.written += 1
        except Exception:  # noqa: BLE001 - collection is best effort, never a scoring failure
            self.failed += 1
            log.exception("data collector: could not append to %s", name)

    def _create(self, blob) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError

        only_new = {"match_condition": MatchConditions.IfMissing}
        try:
            blob.create_append_blob(**only_new)
        except (ResourceExistsError, ResourceModifiedError):
            return  # an earlier life of this instance's file (or a race): append to it
        except ResourceNotFoundError:  # no container yet
            try:
                self._container().create_container()
            except ResourceExistsError:
                pass
            try:
                blob.create_append_blob(**only_new)
            except (ResourceExistsError, ResourceModifiedError):
                return

    def _container(self):
        with self._lock:
            if self._client is None:
                self._client = self._blob_service().get_container_client(self.container)
            return self._client


def now() -> datetime:
    return datetime.now(timezone.utc)
