"""Window profiles of accepted files (made by the validation pass), one per file version: the only
place their keys exist. A drift check reads these instead of the files."""
from __future__ import annotations

from shared.domain.batches import batch_id
from shared.ports import DocumentExists, DocumentStore


class WindowProfileRepository:
    """Each accepted file version's profile with when it was decided on; written once."""

    def __init__(self, store: DocumentStore):
        self.store = store

    @staticmethod
    def _key(name: str, etag: str) -> str:
        return f"monitoring/profiles/{batch_id(name, etag)}"

    def add(self, name: str, etag: str, decided_at: str, profile: dict) -> dict:
        """Store the file's profile once; when another writer stored first, its record stands."""
        record = {"file": name, "etag": etag, "decided_at": decided_at, "rows": profile.get("rows", 0),
                  "profile": profile}
        try:
            self.store.create(self._key(name, etag), record)
        except DocumentExists:
            return self.find(name, etag) or record
        return record

    def find(self, name: str, etag: str) -> dict | None:
        stored = self.store.get(self._key(name, etag))
        return stored.doc if stored else None
