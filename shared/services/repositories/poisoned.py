"""Step messages that failed for good (the last allowed delivery failed; the host moves them to the
poison queue): one record each, newest first, so the dashboard shows them without reading a queue."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from shared.ports import DocumentExists, DocumentStore
from shared.services.repositories.paging import NewestFirstIndex, Page

MAX_REASON_CHARS = 1000


class PoisonedMessages:
    """Keyed by a hash of the message and its delivery, never by the message's own strings."""

    PREFIX = "poisoned/steps/"

    def __init__(self, store: DocumentStore):
        self.store = store
        self._newest = NewestFirstIndex(store, "index/poisoned/")

    @staticmethod
    def record_id(kind: str, subject: str, step: str, attempt: int, message_id: str) -> str:
        claim = json.dumps([kind, subject, step, attempt, message_id])
        return hashlib.sha256(claim.encode()).hexdigest()[:32]

    def add(self, kind: str, subject: str, step: str, attempt: int, message_id: str, tries: int, reason: str,
            at: datetime) -> dict:
        """Keep the message's record once (a second delivery of the same message keeps the first)."""
        record_id = self.record_id(kind, subject, step, attempt, message_id)
        record = {"id": record_id, "at": at.isoformat(), "kind": kind, "subject": subject[:200], "step": step,
                  "attempt": attempt, "message_id": message_id[:200], "tries": tries,
                  "reason": reason[:MAX_REASON_CHARS]}
        self._newest.add(record_id, at)
        try:
            self.store.create(f"{self.PREFIX}{record_id}", record)
        except DocumentExists:
            return self.find(record_id) or record
        return record

    def find(self, record_id: str) -> dict | None:
        stored = self.store.get(f"{self.PREFIX}{record_id}")
        return stored.doc if stored else None

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        return self._newest.page(limit, continuation, self.find, lambda r: datetime.fromisoformat(r["at"]))
