"""Model events the registry did not confirm: kept with their reason, listed newest first."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from shared.domain.models import ModelRegistered
from shared.ports import DocumentExists, DocumentStore
from shared.services.repositories.paging import NewestFirstIndex, Page


class RejectedModelEvents:
    """One record per rejected delivery, under a hash of what it claimed: an event's strings
    (a 400-digit version, any delivery id) never become part of a key."""

    def __init__(self, store: DocumentStore, model_name: str):
        self.store = store
        self._prefix = f"models-rejected/{model_name}/"
        self._newest = NewestFirstIndex(store, f"index/models-rejected/{model_name}/")

    def _id(self, event: ModelRegistered) -> str:
        claim = json.dumps([event.model_name, event.version, event.source, event.delivery_id])
        return hashlib.sha256(claim.encode()).hexdigest()[:32]

    def add(self, event: ModelRegistered, reason: str, received_at: datetime) -> bool:
        """Keep the rejection; False when the same delivery was rejected before (kept once)."""
        record_id = self._id(event)
        self._newest.add(record_id, received_at)
        record = {"id": record_id, "model_name": event.model_name, "version": event.version[:40],
                  "source": event.source, "delivery_id": event.delivery_id[:200], "reason": reason,
                  "received_at": received_at.isoformat()}
        try:
            self.store.create(f"{self._prefix}{record_id}", record)
        except DocumentExists:
            return False
        return True

    def find(self, record_id: str) -> dict | None:
        stored = self.store.get(f"{self._prefix}{record_id}")
        return stored.doc if stored else None

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        return self._newest.page(limit, continuation, self.find, lambda r: datetime.fromisoformat(r["received_at"]))
