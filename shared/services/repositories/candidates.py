"""Candidates of one model and its production record: the only place their keys exist."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from shared.domain.candidates import Candidate, Production
from shared.domain.clock import iso
from shared.domain.errors import InvalidInput, NotFound
from shared.ports import DocumentExists, DocumentStore
from shared.services.documents import update_document
from shared.services.repositories.paging import OpenSet, Page, scan

MAX_VERSION = 99_999_999


def _version_number(version: str) -> int:
    text = str(version)
    if not text.isdigit() or len(text) > 8 or not 1 <= int(text) <= MAX_VERSION:
        raise InvalidInput(f"model version must be a whole number from 1 to {MAX_VERSION}; got {text[:20]!r}")
    return int(text)


def newest_version_first(version: str) -> str:
    """Key part that lists higher versions first."""
    return f"{MAX_VERSION - _version_number(version):08d}"


class CandidateRepository:
    """Each registered version of the model on its way to production, newest version first."""

    def __init__(self, store: DocumentStore, model_name: str):
        self.store = store
        self.model_name = model_name
        self._prefix = f"candidates/{model_name}/"
        self._in_progress = OpenSet(store, f"open/candidates/{model_name}")

    def _key(self, version: str) -> str:
        return f"{self._prefix}{newest_version_first(version)}"

    def find(self, version: str) -> Candidate | None:
        stored = self.store.get(self._key(version))
        return Candidate.from_dict(stored.doc) if stored else None

    def get(self, version: str) -> Candidate:
        candidate = self.find(version)
        if candidate is None:
            raise NotFound(f"candidate {self.model_name} v{version} is unknown")
        return candidate

    def add(self, candidate: Candidate) -> bool:
        """Store a new candidate; False when that version already has one."""
        self._in_progress.add(candidate.version, candidate.received_at)
        try:
            self.store.create(self._key(candidate.version), candidate.to_dict())
        except DocumentExists:
            return False
        return True

    def change(self, version: str, change: Callable[[Candidate], bool | None]) -> tuple[Candidate, bool]:
        """Apply `change` (a domain transition) under an ETag condition; it returns False to leave the record."""

        def apply(doc: dict | None) -> dict | None:
            if doc is None:
                raise NotFound(f"candidate {self.model_name} v{version} is unknown")
            candidate = Candidate.from_dict(doc)
            if change(candidate) is False:
                return None
            return candidate.to_dict()

        doc, changed = update_document(self.store, self._key(version), apply)
        candidate = Candidate.from_dict(doc)
        if candidate.in_progress:
            self._in_progress.add(version, candidate.last_change)
        else:
            self._in_progress.discard([version])
        return candidate, changed

    def move_to(self, version: str, status: str, at: datetime, detail: str = "", **fields) -> Candidate:
        return self.change(version, lambda c: c.move_to(status, at, detail, **fields))[0]

    def reopen(self, version: str, at: str) -> None:
        """Before a change that may put a finished candidate back in progress (a redeploy): a crash
        after that change must not leave it where the sweeper does not look."""
        self._in_progress.add(version, at)

    def newest(self, limit: int, continuation: str | None = None) -> Page[Candidate]:
        def load(key: str) -> Candidate | None:
            stored = self.store.get(key)
            return Candidate.from_dict(stored.doc) if stored else None

        return scan(self.store, self._prefix, limit, continuation, load)

    def in_progress(self) -> list[Candidate]:
        """Candidates between registration and an approval request (the sweeper's business)."""
        found, finished = [], []
        for version in self._in_progress.ids():
            candidate = self.find(version)
            if candidate is not None and candidate.in_progress:
                found.append(candidate)
            elif candidate is not None:
                finished.append(version)
        self._in_progress.discard(finished)
        return found


class ProductionRepository:
    """The one production record of the model: champion, previous champion, staging, newest candidate."""

    def __init__(self, store: DocumentStore, model_name: str, clock: Callable[[], datetime]):
        self.store = store
        self.model_name = model_name
        self.clock = clock
        self._key = f"production/{model_name}"

    def get(self) -> Production:
        stored = self.store.get(self._key)
        return Production.from_dict(stored.doc if stored else None, self.model_name)

    def change(self, change: Callable[[Production], bool | None]) -> Production:
        """Apply a domain transition under an ETag condition; `change` returns False to leave it."""

        def apply(doc: dict | None) -> dict | None:
            production = Production.from_dict(doc, self.model_name)
            if change(production) is False:
                return None
            production.updated_at = iso(self.clock())
            return production.to_dict()

        doc, _ = update_document(self.store, self._key, apply)
        return Production.from_dict(doc, self.model_name)
