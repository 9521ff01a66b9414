"""The audit log's head (newest seq and hash), kept apart from the log so a truncated log shows."""
from __future__ import annotations

from shared.domain.audit_chain import AuditHead
from shared.ports import DocumentStore
from shared.services.documents import update_document

KEY = "audit/head.json"


class AuditHeadRepository:
    """One state document, moved forward only (ETag-conditional): a writer that is behind never
    winds it back, so after concurrent appends it holds the newest of their heads."""

    def __init__(self, store: DocumentStore):
        self.store = store

    def get(self) -> AuditHead | None:
        stored = self.store.get(KEY)
        return AuditHead(int(stored.doc["seq"]), str(stored.doc["hash"])) if stored else None

    def advance(self, head: AuditHead) -> None:
        def forward(doc: dict | None) -> dict | None:
            if doc is not None and int(doc["seq"]) >= head.seq:
                return None
            return {"seq": head.seq, "hash": head.hash}

        update_document(self.store, KEY, forward)
