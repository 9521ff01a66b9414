"""Data batches (one verdict per file version) and the accepted-data record: the only place their keys exist."""
from __future__ import annotations

import hashlib
from datetime import datetime

from shared.domain.batches import ACCEPTED, REJECTED, BatchRef, DataBatch
from shared.domain.errors import InvalidInput
from shared.ports import DocumentExists, DocumentStore
from shared.services.documents import update_document
from shared.services.repositories.paging import NewestFirstIndex, Page

BATCH_STATUSES = (ACCEPTED, REJECTED)


def batch_id(name: str, etag: str) -> str:
    """A short, path-safe id of one file version, whatever the blob name (up to 1,024 characters)."""
    return hashlib.sha256(f"{name}\0{etag.strip(chr(34))}".encode()).hexdigest()[:32]


class BatchRepository:
    """Each data file version's verdict, newest first."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._newest = NewestFirstIndex(store, "index/batches/")

    @staticmethod
    def _key(item_id: str) -> str:
        return f"batches/{item_id}"

    def find(self, name: str, etag: str) -> DataBatch | None:
        return self._by_id(batch_id(name, etag))

    def _by_id(self, item_id: str) -> DataBatch | None:
        stored = self.store.get(self._key(item_id))
        return DataBatch.from_dict(stored.doc) if stored else None

    def add(self, batch: DataBatch) -> DataBatch:
        """Record the verdict once; a concurrent delivery that decided first wins (its record is returned)."""
        item_id = batch_id(batch.name, batch.etag)
        self._newest.add(item_id, datetime.fromisoformat(batch.received_at))
        try:
            self.store.create(self._key(item_id), batch.to_dict())
        except DocumentExists:
            return self._by_id(item_id)
        return batch

    def mark_training_requested(self, batch: DataBatch) -> None:
        def mark(doc: dict | None) -> dict | None:
            if doc is None or doc.get("training_requested"):
                return None
            return {**doc, "training_requested": True}

        update_document(self.store, self._key(batch_id(batch.name, batch.etag)), mark)

    def newest(self, limit: int, continuation: str | None = None, status: str | None = None) -> Page[DataBatch]:
        if status is not None and status not in BATCH_STATUSES:
            raise InvalidInput(f"status must be one of {list(BATCH_STATUSES)}; got {status!r}")
        return self._newest.page(limit, continuation, self._by_id, lambda b: datetime.fromisoformat(b.received_at),
                                 keep=None if status is None else (lambda b: b.status == status))


class AcceptedData:
    """Every accepted file version in acceptance order (one document): the next training set."""

    KEY = "training/accepted-data"

    def __init__(self, store: DocumentStore):
        self.store = store

    def add(self, batch: BatchRef) -> None:
        def add(doc: dict | None) -> dict | None:
            doc = doc or {"batches": []}
            if batch.to_dict() in doc["batches"]:
                return None
            doc["batches"].append(batch.to_dict())
            return doc

        update_document(self.store, self.KEY, add)

    def all(self) -> list[BatchRef]:
        stored = self.store.get(self.KEY)
        return [BatchRef.from_dict(b) for b in (stored.doc["batches"] if stored else [])]
