"""CapturedInputs on Azure ML's data collector output: the JSONL files it writes to the workspace
blob store, one folder per endpoint, deployment, collection and hour
(docs/platform-facts.md#data-collection):

    modelDataCollector/<endpoint>/<deployment>/<collection>/<yyyy>/<MM>/<dd>/<HH>/<instance id>.jsonl

Each line is one envelope whose `data` holds the rows of one or more requests (a list of
{column: value} objects). A segment is one file, its version the blob's ETag; a read downloads
the file in ranges up to the size it was listed with (the current hour's files still grow) and
writes the model's input columns as CSV. A line that is not such an envelope is counted and
skipped, with one warning per file. azure-storage-blob only; no Azure ML SDK.
"""
from __future__ import annotations

import itertools
import json
import logging
import re
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterator, Sequence

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from shared.adapters.blob_storage import storage_errors
from shared.adapters.capture_rows import CsvChunks, hour_text, since_hour, whole_lines
from shared.domain.clock import utc_now
from shared.domain.errors import InvalidInput
from shared.domain.naming import validate_deployment_name, validate_endpoint_name
from shared.ports import CaptureSegment

log = logging.getLogger(__name__)

ROOT = "modelDataCollector"
_CONTAINER = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_COLLECTION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
_HOUR_FILE = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/[A-Za-z0-9_.-]{1,200}\.jsonl")
DAY_PREFIXES_UP_TO = 7  # a longer `since` lists by month and year instead of by day


class DataCollectorInputs:
    """`container` holds the collector's output (the workspace blob store's container);
    `columns` are the model's input columns (the data contract's features)."""

    def __init__(self, service: BlobServiceClient, container: str, collection: str, columns: Sequence[str],
                 clock: Callable[[], datetime] = utc_now, chunk_size: int = 4 * 1024 * 1024):
        if not _COLLECTION.fullmatch(collection or ""):
            raise InvalidInput(f"data collector collection {collection[:70]!r}: letters, digits, '_' and '-' only")
        if not _CONTAINER.fullmatch(container or "") or not 3 <= len(container) <= 63:
            raise InvalidInput(f"data collector container {container[:70]!r} is not a container name: the "
                               "workspace blob store's is azureml-blobstore-<workspace id>")
        self._container = service.get_container_client(container)
        self.collection = collection
        self.columns = list(columns)
        self.clock = clock
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"DataCollectorInputs(container={self._container.container_name!r}, collection={self.collection!r})"

    def segments(self, endpoint: str, deployment: str, since: str | None = None) -> list[CaptureSegment]:
        base = self._folder(endpoint, deployment)
        start = since_hour(since)
        found = []
        with storage_errors("listing the data collector's files"):
            try:
                for prefix in _prefixes(base, start, self.clock()):
                    for blob in self._container.list_blobs(name_starts_with=prefix):
                        hour = _file_hour(blob.name[len(base):])
                        if hour is not None and (start is None or hour >= start):
                            found.append(CaptureSegment(endpoint, deployment, blob.name, blob.etag, hour_text(hour),
                                                        blob.size))
            except ResourceNotFoundError:  # no container yet: nothing was collected
                return []
        return sorted(found, key=lambda s: (s.hour, s.key))

    def read(self, segment: CaptureSegment) -> Iterator[bytes]:
        base = self._folder(segment.endpoint, segment.deployment)
        if not segment.key.startswith(base) or _file_hour(segment.key[len(base):]) is None:
            raise InvalidInput(f"{segment.key[:80]!r} is not a data collector file of "
                               f"{segment.endpoint}/{segment.deployment}")
        ranges = self._ranges(segment)
        first = next(ranges, None)
        if first is None:
            return  # gone (or empty)
        out, skipped = CsvChunks(self.columns, self.chunk_size), 0
        for line, whole in whole_lines(itertools.chain([first], ranges)):
            rows = _rows(line, self.columns)
            if rows is None:
                if whole and line.strip():  # a last line cut at the listed size is the next version's
                    skipped += 1
                continue
            chunk = out.add(rows)
            if chunk:
                yield chunk
        if skipped:
            log.warning("data collector file of %s/%s at %s: %d line(s) without rows of the model's inputs skipped",
                        segment.endpoint, segment.deployment, segment.hour, skipped)
        rest = out.rest()
        if rest:
            yield rest

    def _folder(self, endpoint: str, deployment: str) -> str:
        return f"{ROOT}/{validate_endpoint_name(endpoint)}/{validate_deployment_name(deployment)}/{self.collection}/"

    def _ranges(self, segment: CaptureSegment) -> Iterator[bytes]:
        """The blob's first `segment.size` bytes, one ranged download at a time (nothing once it is gone)."""
        blob = self._container.get_blob_client(segment.key)
        offset = 0
        while offset < segment.size:
            length = min(self.chunk_size, segment.size - offset)
            with storage_errors("reading a data collector file"):
                try:
                    data = blob.download_blob(offset=offset, length=length, max_concurrency=1).readall()
                except ResourceNotFoundError:
                    return
                except HttpResponseError as error:
                    if error.status_code == 416:  # shorter than listed: replaced meanwhile
                        return
                    raise
            if not data:
                return
            offset += len(data)
            yield data


def _rows(line: bytes, columns: list[str]) -> list[list] | None:
    """The rows of one envelope line in `columns` order; None when it holds none."""
    try:
        envelope = json.loads(line)
    except ValueError:
        return None
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):  # columns of lists
        size = max(len(v) for v in data.values())
        data = [{name: values[i] for name, values in data.items() if i < len(values)} for i in range(size)]
    if not isinstance(data, list) or not data:
        return None  # e.g. a payload over 4 MB: `data` is the URL of a file of its own
    records = [r for r in data if isinstance(r, dict) and any(name in r for name in columns)]
    if len(records) != len(data):
        return None
    return [[_cell(r.get(name)) for name in columns] for r in records]


def _cell(value):
    return value if isinstance(value, (int, float, str)) or value is None else json.dumps(value)


def _file_hour(rest: str) -> datetime | None:
    match = _HOUR_FILE.fullmatch(rest)
    if not match:
        return None
    try:
        return datetime(*(int(part) for part in match.groups()), tzinfo=timezone.utc)
    except ValueError:
        return None


def _prefixes(base: str, start: datetime | None, now: datetime) -> list[str]:
    """The listing prefixes that cover every hour from `start` to tomorrow (clocks differ): one per
    day over a short span, else the start's month, then whole months, then whole years."""
    if start is None:
        return [base]
    first, last = start.date(), now.astimezone(timezone.utc).date() + timedelta(days=1)
    if (last - first).days < DAY_PREFIXES_UP_TO:
        return [f"{base}{first + timedelta(days=n):%Y/%m/%d}/" for n in range(max(0, (last - first).days) + 1)]
    prefixes, month = [], date(first.year, first.month, 1)
    while month <= last and (month.year == first.year or month.month != 1):
        prefixes.append(f"{base}{month:%Y/%m}/")
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    prefixes += [f"{base}{year}/" for year in range(month.year, last.year + 1) if month <= last]
    return prefixes
