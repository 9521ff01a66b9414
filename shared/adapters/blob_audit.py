"""AuditLog on an Azure append blob (Azurite locally): one JSON line per decision, never rewritten.

Each entry is appended as exactly one block ("Append Block" is atomic per block), so lines
from concurrent writers in any number of instances never interleave, and the blob's order is
the order the service accepted them. The blob is created on first use, conditionally
(If-None-Match: *), so racing creators cannot truncate each other's entries. Nothing here
rewrites or deletes a blob.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Callable

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from shared.adapters.blob_storage import _Containers, _translated
from shared.domain.errors import InvalidInput

log = logging.getLogger("audit")

MAX_ENTRY_BYTES = 4 * 1024 * 1024  # one append block (the smallest per-block limit across API versions)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class BlobAuditLog:
    """Append-only decision log in one append blob.

    `read` downloads the whole blob: fine while it is small. An append blob holds at most
    50,000 blocks (entries); the next step when it grows is one blob per month
    (e.g. `audit/decisions-2026-11.jsonl`), with `read` walking back month by month.
    """

    def __init__(self, service: BlobServiceClient, container: str, blob_name: str = "audit/decisions.jsonl",
                 clock: Callable[[], datetime] = _utc_now):
        self.blob = _Containers(service).get(container).get_blob_client(blob_name)
        self.clock = clock

    @_translated("appending to the audit log")
    def append(self, entry: dict) -> None:
        if not isinstance(entry, dict):
            raise InvalidInput("an audit entry must be a JSON object")
        record = dict(entry)
        # Our own clock, not the storage server's: the entry says when the decision was recorded.
        if "recorded_at" not in record:
            record["recorded_at"] = self.clock().isoformat()
        line = json.dumps(record, default=str, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        if len(data) > MAX_ENTRY_BYTES:
            raise InvalidInput(f"audit entry is {len(data)} bytes; at most {MAX_ENTRY_BYTES} fit in one append block")
        try:
            self.blob.append_block(data, length=len(data))
        except ResourceNotFoundError:
            # First entry ever (or the blob was removed out of band): create it, conditionally, and retry once.
            self._ensure_blob()
            self.blob.append_block(data, length=len(data))

    @_translated("reading the audit log")
    def read(self, limit: int = 100) -> list[dict]:
        """The newest `limit` entries, newest first (append order is the order of record)."""
        if limit <= 0:
            return []
        try:
            body = self.blob.download_blob(max_concurrency=1).readall()
        except ResourceNotFoundError:
            return []
        entries: list[dict] = []
        seen: set[bytes] = set()
        for raw in reversed(body.split(b"\n")):
            if not raw.strip():
                continue
            if raw in seen:
                # A transport retry of an append that had in fact succeeded repeats the same bytes
                # (same recorded_at to the microsecond): show it once.
                continue
            seen.add(raw)
            try:
                entry = json.loads(raw)
            except ValueError:
                log.warning("audit log %s: skipped an unreadable line", self.blob.blob_name)
                continue
            entries.append(entry)
            if len(entries) == limit:
                break
        return entries

    def _ensure_blob(self) -> None:
        try:
            self.blob.create_append_blob(
                content_settings=ContentSettings(content_type="application/x-ndjson"),
                match_condition=MatchConditions.IfMissing,  # If-None-Match: *, never truncates
            )
        except (ResourceExistsError, ResourceModifiedError):
            pass  # another writer created it first: exactly what we wanted
