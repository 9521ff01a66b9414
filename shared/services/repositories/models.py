"""Model-registered events, once per version, and the malformed events kept for a person to read."""
from __future__ import annotations

import hashlib
import json

from shared.domain.models import ModelRegistered
from shared.ports import DocumentExists, DocumentStore
from shared.services.repositories.candidates import MAX_VERSION, newest_version_first
from shared.services.repositories.paging import Page, scan


class ModelEventRepository:
    """The registered versions of one model as their events recorded them, newest version first."""

    def __init__(self, store: DocumentStore, model_name: str):
        self.store = store
        self.model_name = model_name
        self._prefix = f"models/{model_name}/"

    def _key(self, version: str) -> str:
        return f"{self._prefix}{newest_version_first(version)}"

    def add(self, event: ModelRegistered, received_at: str) -> bool:
        """Record the version's event; False when one was recorded before."""
        try:
            self.store.create(self._key(event.version), {**event.to_dict(), "received_at": received_at})
        except DocumentExists:
            return False
        return True

    def find(self, version: str) -> dict | None:
        stored = self.store.get(self._key(version))
        return stored.doc if stored else None

    def recorded_versions(self) -> set[str]:
        """Every version with a record, from a name-only listing (no document is read)."""
        found, continuation = set(), None
        while True:
            page = self.store.list_keys(self._prefix, 5000, continuation)
            found.update(str(MAX_VERSION - int(key[len(self._prefix):])) for key in page.keys)
            if not page.continuation:
                return found
            continuation = page.continuation

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        def load(key: str) -> dict | None:
            stored = self.store.get(key)
            return stored.doc if stored else None

        return scan(self.store, self._prefix, limit, continuation, load)


class MalformedEvents:
    """Events that could not be parsed: kept under a hash of their content, never lost, never a path."""

    PREFIX = "events/malformed/"

    def __init__(self, store: DocumentStore):
        self.store = store

    def keep(self, event: object, reason: str, received_at: str) -> str:
        body = json.dumps(event, sort_keys=True, default=str)
        key = f"{self.PREFIX}{hashlib.sha256(body.encode()).hexdigest()[:32]}"
        try:
            self.store.create(key, {"reason": reason, "event": event, "received_at": received_at})
        except DocumentExists:
            pass  # the same malformed event again: kept once
        return key

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        def load(key: str) -> dict | None:
            stored = self.store.get(key)
            return stored.doc if stored else None

        return scan(self.store, self.PREFIX, limit, continuation, load)
