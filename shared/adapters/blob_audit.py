"""AuditLog on an Azure append blob (Azurite locally): one JSON line per decision, hash-chained, never rewritten.

Each entry is appended as exactly one block ("Append Block" is atomic per block) with the
append-position condition (x-ms-blob-condition-appendpos = the blob's length when its tail was
read), so the entry lands right after the tail it was chained to: a concurrent writer's append in
between makes the service answer 412 (AppendPositionConditionNotMet) and this one re-reads the
tail and tries again, a bounded number of times. The blob is created on first use, conditionally
(If-None-Match: *), so racing creators cannot truncate each other's entries. Nothing here rewrites
or deletes a blob. REST: learn.microsoft.com/rest/api/storageservices/append-block.
"""
from __future__ import annotations

import json
from collections import deque
import logging
import random
import time
from datetime import datetime, timezone
from typing import Callable, Iterator

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from shared.adapters.blob_storage import _Containers, _translated, storage_errors
from shared.domain.audit_chain import chained
from shared.domain.errors import InvalidInput, PlatformError, Unavailable

log = logging.getLogger("audit")

MAX_ENTRY_BYTES = 4 * 1024 * 1024  # one append block (the smallest per-block limit across API versions)
TAIL_BYTES = 8 * 1024              # the first range read for the tail entry; doubled until a line fits
APPEND_ATTEMPTS = 50               # appends that lost the race to another writer, then Unavailable
SCAN_CHUNK = 1024 * 1024


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def entry_line(record: dict) -> bytes:
    """The stored form: the entry's JSON (sorted keys, compact, UTF-8) and a newline."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def parse_line(raw: bytes) -> object:
    """A stored line as its entry, or the line's text when it is not JSON (verify names it unreadable)."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class BlobAuditLog:
    """Append-only, hash-chained decision log in one append blob.

    `read` and `scan` stream the blob in chunks (memory bounded by the chunk and `limit`). An append
    blob holds at most 50,000 blocks (entries); the next step when it grows is one blob per month
    (e.g. `decisions-2026-11.jsonl`), the chain carried from one to the next.
    """

    def __init__(self, service: BlobServiceClient, container: str, blob_name: str = "decisions.jsonl",
                 clock: Callable[[], datetime] = _utc_now, pause: Callable[[float], None] = time.sleep):
        self.blob = _Containers(service).get(container).get_blob_client(blob_name)
        self.clock, self.pause = clock, pause

    @_translated("appending to the audit log")
    def append(self, entry: dict) -> dict:
        if not isinstance(entry, dict):
            raise InvalidInput("an audit entry must be a JSON object")
        record = dict(entry)
        # Our own clock, not the storage server's: the entry says when the decision was recorded.
        if "recorded_at" not in record:
            record["recorded_at"] = self.clock().isoformat()
        record = json.loads(json.dumps(record, default=str))  # what the blob stores and gives back
        tried = None
        for attempt in range(APPEND_ATTEMPTS):
            length, tail = self._tail()
            if tried is not None and tail == tried:
                return tried  # the last try did land: its answer was lost and a retry met it (412)
            stored = tried = chained(record, tail)
            data = entry_line(stored)
            if len(data) > MAX_ENTRY_BYTES:
                raise InvalidInput(f"audit entry is {len(data)} bytes; at most {MAX_ENTRY_BYTES} fit in one append block")
            try:
                self.blob.append_block(data, length=len(data), appendpos_condition=length)
                return stored
            except ResourceNotFoundError:
                self._ensure_blob()
            except HttpResponseError as error:
                if error.status_code != 412:
                    raise
                self.pause(random.uniform(0, 0.01 * min(attempt + 1, 10)))  # another writer appended first
        raise Unavailable(f"the audit log is busy: {APPEND_ATTEMPTS} appends lost to other writers; try again shortly")

    @_translated("reading the audit log")
    def read(self, limit: int = 100) -> list[dict]:
        """The newest `limit` entries, newest first (append order is the order of record)."""
        if limit <= 0:
            return []
        newest: deque[dict] = deque(maxlen=limit)
        for entry in self._entries():
            if isinstance(entry, dict):
                newest.append(entry)
            else:
                log.warning("audit log %s: skipped an unreadable line", self.blob.blob_name)
        return list(reversed(newest))

    def scan(self) -> Iterator[object]:
        """Every stored entry, oldest first, streamed (a line that is not JSON comes as its text)."""
        with storage_errors("reading the audit log"):
            yield from self._entries()

    def _entries(self) -> Iterator[object]:
        try:
            chunks = self.blob.download_blob(max_concurrency=1).chunks()
            rest = b""
            for chunk in chunks:
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                yield from (parse_line(raw) for raw in lines if raw.strip())
        except ResourceNotFoundError:
            return
        if rest.strip():
            yield parse_line(rest)

    def _tail(self) -> tuple[int, dict | None]:
        """The blob's length and its newest entry (None: no entry yet), reading only its last bytes."""
        try:
            length = self.blob.get_blob_properties().size
        except ResourceNotFoundError:
            return 0, None
        span = TAIL_BYTES
        while length:
            offset = max(0, length - span)
            data = self.blob.download_blob(offset=offset, length=length - offset, max_concurrency=1).readall()
            body = data.rstrip(b"\n")
            cut = body.rfind(b"\n")
            if cut >= 0 or offset == 0:
                last = parse_line(body[cut + 1:])
                if not isinstance(last, dict):
                    raise PlatformError("the audit log's last line is not an entry: nothing can be chained to it "
                                        "(GET /api/audit/verify names it)")
                return length, last
            if span > 2 * MAX_ENTRY_BYTES:
                raise PlatformError("the audit log's last line is longer than any entry (GET /api/audit/verify)")
            span *= 2
        return 0, None

    def _ensure_blob(self) -> None:
        try:
            self.blob.create_append_blob(
                content_settings=ContentSettings(content_type="application/x-ndjson"),
                match_condition=MatchConditions.IfMissing,  # If-None-Match: *, never truncates
            )
        except (ResourceExistsError, ResourceModifiedError):
            pass  # another writer created it first: exactly what we wanted
