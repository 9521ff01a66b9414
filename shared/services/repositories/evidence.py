"""Evidence documents of approval requests: the only place their keys exist.

A document is created once and never replaced: `evidence/{model}/v{version}/{approval_id}.json`,
found from its approval id through a small pointer written before it (a pointer whose document is
missing — a crash between the two writes — reads as no document; the re-run writes it).
"""
from __future__ import annotations

from shared.domain.errors import InvalidInput
from shared.domain.naming import validate_record_id
from shared.ports import DocumentExists, DocumentStore
from shared.services.repositories.paging import MAX_LIMIT, scan


class EvidenceRepository:
    """One model's evidence documents, by approval and by version."""

    def __init__(self, store: DocumentStore, model_name: str):
        self.store = store
        self.model_name = model_name

    def _prefix(self, version: str) -> str:
        if not (isinstance(version, str) and version.isascii() and version.isdigit() and len(version) <= 12):
            raise InvalidInput(f"model version {str(version)[:20]!r} is not a whole number")
        return f"evidence/{self.model_name}/v{version}/"

    def _key(self, version: str, approval_id: str) -> str:
        return f"{self._prefix(version)}{validate_record_id(approval_id, 'approval')}.json"

    @staticmethod
    def _pointer(approval_id: str) -> str:
        return f"index/evidence-approvals/{validate_record_id(approval_id, 'approval')}"

    def add(self, document: dict) -> dict:
        """Store the document once; when one is stored for its approval already, that one stands and is returned."""
        version, approval_id = document["version"], document["approval_id"]
        key = self._key(version, approval_id)
        try:
            self.store.create(self._pointer(approval_id), {"model_name": self.model_name, "version": version})
        except DocumentExists:
            pass
        try:
            self.store.create(key, document)
        except DocumentExists:
            return self.store.get(key).doc
        return document

    def find(self, version: str, approval_id: str) -> dict | None:
        stored = self.store.get(self._key(version, approval_id))
        return stored.doc if stored else None

    def for_approval(self, approval_id: str) -> dict | None:
        pointer = self.store.get(self._pointer(approval_id))
        if pointer is None or pointer.doc.get("model_name") != self.model_name:
            return None
        return self.find(pointer.doc["version"], approval_id)

    def for_version(self, version: str) -> dict | None:
        """The version's newest document by built_at (a version has one per approval request)."""
        newest, continuation = None, None
        while True:
            page = scan(self.store, self._prefix(version), MAX_LIMIT, continuation, self._load)
            for doc in page.items:
                if newest is None or (doc.get("built_at") or "") > (newest.get("built_at") or ""):
                    newest = doc
            continuation = page.continuation
            if not continuation:
                return newest

    def _load(self, key: str) -> dict | None:
        stored = self.store.get(key)
        return stored.doc if stored else None
