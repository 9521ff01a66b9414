"""Training jobs and the pending training request: the only place their keys exist."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from shared.domain.errors import NotFound
from shared.domain.naming import validate_record_id
from shared.domain.training import TrainingJob
from shared.ports import DocumentStore
from shared.services.documents import update_document
from shared.services.repositories.paging import NewestFirstIndex, Page


class JobRepository:
    """What each training job was asked to do and what it became, newest first."""

    def __init__(self, store: DocumentStore):
        self.store = store
        self._newest = NewestFirstIndex(store, "index/jobs/")

    @staticmethod
    def _key(name: str) -> str:
        return f"jobs/{validate_record_id(name, 'training job')}"

    def find(self, name: str) -> TrainingJob | None:
        stored = self.store.get(self._key(name))
        return TrainingJob.from_dict(stored.doc) if stored else None

    def get(self, name: str) -> TrainingJob:
        job = self.find(name)
        if job is None:
            raise NotFound(f"training job {name!r} is unknown")
        return job

    def add(self, job: TrainingJob) -> TrainingJob:
        """Create the record once; after a crash the stored one (maybe an earlier training set) stands."""
        self._newest.add(job.name, datetime.fromisoformat(job.submitted_at))
        doc, _ = update_document(self.store, self._key(job.name), lambda current: None if current else job.to_dict())
        return TrainingJob.from_dict(doc)

    def change(self, name: str, change: Callable[[TrainingJob], bool | None]) -> tuple[TrainingJob | None, bool]:
        """Apply `change` under an ETag condition (False: leave it); (None, False) for an unknown job."""

        def apply(doc: dict | None) -> dict | None:
            if doc is None:
                return None
            job = TrainingJob.from_dict(doc)
            return None if change(job) is False else job.to_dict()

        doc, changed = update_document(self.store, self._key(name), apply)
        return (TrainingJob.from_dict(doc) if doc else None), changed

    def newest(self, limit: int, continuation: str | None = None) -> Page[TrainingJob]:
        return self._newest.page(limit, continuation, self.find, lambda j: datetime.fromisoformat(j.submitted_at))


class TrainingRequests:
    """The one open training request (debounced by a quiet period), as a plain document."""

    KEY = "training/pending"

    def __init__(self, store: DocumentStore):
        self.store = store

    def change(self, change: Callable[[dict | None], dict | None]) -> tuple[dict | None, bool]:
        return update_document(self.store, self.KEY, change)

    def open(self) -> dict | None:
        stored = self.store.get(self.KEY)
        return stored.doc if stored and stored.doc.get("open") else None
