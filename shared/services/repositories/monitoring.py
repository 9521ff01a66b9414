"""Drift checks, performance records and the retraining log: the only place their keys exist."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from shared.domain.errors import NotFound
from shared.domain.naming import validate_record_id
from shared.ports import DocumentExists, DocumentStore
from shared.services.documents import update_document
from shared.services.repositories.batches import batch_id
from shared.services.repositories.paging import NewestFirstIndex, Page


class DriftCheckRepository:
    """Each drift check's result (immutable once stored), newest first."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._newest = NewestFirstIndex(store, "index/drift/")

    @staticmethod
    def _key(check_id: str) -> str:
        return f"monitoring/drift/{validate_record_id(check_id, 'drift check')}"

    def add(self, record: dict) -> dict:
        self._newest.add(record["id"], datetime.fromisoformat(record["at"]))
        self.store.create(self._key(record["id"]), record)
        return record

    def find(self, check_id: str) -> dict | None:
        stored = self.store.get(self._key(check_id))
        return stored.doc if stored else None

    def get(self, check_id: str) -> dict:
        record = self.find(check_id)
        if record is None:
            raise NotFound(f"drift check {check_id!r} does not exist")
        return record

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        return self._newest.page(limit, continuation, self.find, lambda r: datetime.fromisoformat(r["at"]))


class PerformanceRepository:
    """The champion's figures on each accepted labelled file, once per file version, newest file first."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._newest = NewestFirstIndex(store, "index/performance/")

    @staticmethod
    def _key(record_id: str) -> str:
        return f"monitoring/performance/{record_id}"

    def find(self, name: str, etag: str) -> dict | None:
        return self._by_id(batch_id(name, etag))

    def _by_id(self, record_id: str) -> dict | None:
        stored = self.store.get(self._key(record_id))
        return stored.doc if stored else None

    def add(self, name: str, etag: str, record: dict) -> dict:
        """Store the file's record once; when a concurrent scorer stored first, its record stands."""
        record_id = batch_id(name, etag)
        self._newest.add(record_id, _file_time(record))
        try:
            self.store.create(self._key(record_id), record)
        except DocumentExists:
            return self._by_id(record_id)
        return record

    def add_estimate(self, record: dict) -> dict:
        """Store a performance estimate without labels (CBPE on live traffic) in the same history."""
        record_id = f"estimated-{validate_record_id(record['id'], 'performance estimate')}"
        self._newest.add(record_id, _file_time(record))
        self.store.create(self._key(record_id), record)
        return record

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        return self._newest.page(limit, continuation, self._by_id, _file_time)


def _file_time(record: dict) -> datetime:
    """When the file was decided on (the order of the history), else when it was scored."""
    return datetime.fromisoformat(record.get("file_decided_at") or record["at"])


class RetrainingLog:
    """When drift or performance asked for retraining (the cooldown and daily cap read it)."""

    KEY = "monitoring/retraining"

    def __init__(self, store: DocumentStore):
        self.store = store

    def change(self, change: Callable[[dict | None], dict | None]) -> tuple[dict | None, bool]:
        return update_document(self.store, self.KEY, change)
