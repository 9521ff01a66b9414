"""Data batches (one verdict per file version), their files (immutable copies, quarantine) and the
training data: the only place their keys exist.

Blob names chosen by people are data here, never part of a key: every key and file name we derive
is a hash (a version id, a name hash, a content hash), plus, in quarantine, a bounded and
sanitised form of the name so a person browsing the container recognises the file.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Callable

from shared.domain.batches import ACCEPTED, REJECTED, Acceptance, BatchRef, DataBatch, TrainingData, batch_id
from shared.domain.errors import InvalidInput
from shared.ports import DocumentExists, DocumentStore
from shared.services.documents import update_document
from shared.services.repositories.paging import MAX_LIMIT, NewestFirstIndex, Page

BATCH_STATUSES = (ACCEPTED, REJECTED)

# The immutable copies live in the data container, where the Azure ML datastore reaches them; the
# blob trigger ignores this prefix (a file a person uploads under it is not validated either).
ACCEPTED_COPY_PREFIX = "_accepted/"
QUARANTINE_NAME_CHARS = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

__all__ = ["ACCEPTED_COPY_PREFIX", "AcceptedData", "BatchRepository", "accepted_copy_name", "batch_id",
           "is_accepted_copy", "quarantine_names"]


def accepted_copy_name(sha256: str) -> str:
    """Where the exact accepted bytes are kept: named by their content, so written at most once."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise InvalidInput(f"content hash {sha256[:70]!r} is not a sha256 hex digest")
    return f"{ACCEPTED_COPY_PREFIX}{sha256}"


def is_accepted_copy(name: str) -> bool:
    return name.startswith(ACCEPTED_COPY_PREFIX)


def quarantine_names(batch: DataBatch) -> tuple[str, str]:
    """(copy, reason document) of a rejected version: `<version id>/<sanitised name, ≤100 chars>`."""
    last = batch.name.rstrip("/").rsplit("/", 1)[-1]
    safe = _UNSAFE.sub("_", last).strip("._")[-QUARANTINE_NAME_CHARS:] or "file"
    copy_name = f"{batch.id}/{safe}"
    return copy_name, f"{copy_name}.reason.json"


def _name_key(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]  # versions_of checks the name


class BatchRepository:
    """Each data file version's verdict, newest first, and every version of one file name."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._newest = NewestFirstIndex(store, "index/batches/")

    @staticmethod
    def _key(item_id: str) -> str:
        return f"batches/{item_id}"

    def _versions(self, name: str) -> NewestFirstIndex:
        return NewestFirstIndex(self.store, f"index/fv/{_name_key(name)}/")

    def find(self, name: str, etag: str) -> DataBatch | None:
        return self.by_id(batch_id(name, etag))

    def by_id(self, item_id: str) -> DataBatch | None:
        stored = self.store.get(self._key(item_id))
        return DataBatch.from_dict(stored.doc) if stored else None

    def add(self, batch: DataBatch) -> DataBatch:
        """Record the verdict once; a concurrent delivery that decided first wins (its record is returned)."""
        received = datetime.fromisoformat(batch.received_at)
        self._newest.add(batch.id, received)
        self._versions(batch.name).add(batch.id, received)
        try:
            self.store.create(self._key(batch.id), batch.to_dict())
        except DocumentExists:
            return self.by_id(batch.id)
        return batch

    def change(self, item_id: str, change: Callable[[DataBatch], bool]) -> DataBatch | None:
        """Apply a transition under an ETag condition (False: leave it); None for an unknown id."""

        def apply(doc: dict | None) -> dict | None:
            if doc is None:
                return None
            batch = DataBatch.from_dict(doc)
            return batch.to_dict() if change(batch) else None

        doc, _ = update_document(self.store, self._key(item_id), apply)
        return DataBatch.from_dict(doc) if doc else None

    def mark_training_requested(self, batch: DataBatch) -> None:
        def mark(doc: dict | None) -> dict | None:
            if doc is None or doc.get("training_requested"):
                return None
            return {**doc, "training_requested": True}

        update_document(self.store, self._key(batch.id), mark)

    def newest(self, limit: int, continuation: str | None = None, status: str | None = None) -> Page[DataBatch]:
        if status is not None and status not in BATCH_STATUSES:
            raise InvalidInput(f"status must be one of {list(BATCH_STATUSES)}; got {status!r}")
        return self._newest.page(limit, continuation, self.by_id, lambda b: datetime.fromisoformat(b.received_at),
                                 keep=None if status is None else (lambda b: b.status == status))

    def versions_of(self, name: str) -> list[DataBatch]:
        """Every recorded version of the file `name`, newest first."""
        index, found, token = self._versions(name), [], None
        while True:
            page = index.page(MAX_LIMIT, token, self.by_id, lambda b: datetime.fromisoformat(b.received_at))
            found += [b for b in page.items if b.name == name]
            token = page.continuation
            if not token:
                return found


class AcceptedData:
    """The training data (`TrainingData`, one document): what the next job trains on."""

    KEY = "training/accepted-data"

    def __init__(self, store: DocumentStore):
        self.store = store

    def add(self, batch: BatchRef, seen_at: str) -> Acceptance:
        """Join the training data (idempotent); an older version of the name leaves it."""
        outcome: list[Acceptance] = []

        def add(doc: dict | None) -> dict | None:
            data = TrainingData.from_dict(doc)
            acceptance, changed = data.accept(batch, seen_at)
            outcome[:] = [acceptance]
            return data.to_dict() if changed else None

        update_document(self.store, self.KEY, add)
        return outcome[0]

    def withdraw(self, name: str, at: str, by: str) -> TrainingData:
        def withdraw(doc: dict | None) -> dict | None:
            data = TrainingData.from_dict(doc)
            before = data.to_dict()
            data.withdraw(name, at, by)
            return data.to_dict() if data.to_dict() != before else None

        doc, _ = update_document(self.store, self.KEY, withdraw)
        return TrainingData.from_dict(doc)

    def mark_audited(self, name: str) -> None:
        def mark(doc: dict | None) -> dict | None:
            data = TrainingData.from_dict(doc)
            withdrawal = data.withdrawn.get(name)
            if not withdrawal or withdrawal.get("audited"):
                return None
            withdrawal["audited"] = True
            return data.to_dict()

        update_document(self.store, self.KEY, mark)

    def current(self) -> TrainingData:
        stored = self.store.get(self.KEY)
        return TrainingData.from_dict(stored.doc if stored else None)

    def all(self) -> list[BatchRef]:
        return self.current().batches
