"""What the outer loop shares: its configuration, its ports, and small helpers on records."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from shared.domain.candidates import Candidate, Production, candidate_key, production_key
from shared.domain.clock import iso, utc_now
from shared.domain.errors import NotFound
from shared.domain.gate import GatePolicy
from shared.ports import AuditLog, DocumentStore, FileStore, MLPlatform, Notifier, OnlineEndpoints
from shared.services.documents import update_document


@dataclass(frozen=True)
class DeliveryConfig:
    model_name: str
    endpoint_name: str
    gate: GatePolicy
    smoke_max_latency_ms: float
    approval_ttl_hours: float
    approval_reminder_hours: float
    mirror_percent: int
    public_base_url: str
    signing_key: str
    data_container: str


@dataclass
class DeliveryPorts:
    documents: DocumentStore
    files: FileStore
    platform: MLPlatform
    endpoints: OnlineEndpoints
    notifier: Notifier
    audit: AuditLog
    clock: Callable = utc_now


class Records:
    """Reads and ETag-guarded changes of candidates and the production record."""

    def __init__(self, documents: DocumentStore, model_name: str, clock: Callable):
        self.documents = documents
        self.model_name = model_name
        self.clock = clock

    def candidate(self, version: str) -> Candidate:
        stored = self.documents.get(candidate_key(self.model_name, version))
        if not stored:
            raise NotFound(f"candidate {self.model_name} v{version} is unknown")
        return Candidate.from_dict(stored.doc)

    def set_candidate(self, version: str, status: str, detail: str = "", **fields) -> Candidate:
        def apply(doc: dict | None) -> dict | None:
            if doc is None:
                raise NotFound(f"candidate {self.model_name} v{version} is unknown")
            doc.update(fields, status=status)
            doc["history"].append({"at": iso(self.clock()), "status": status, "detail": detail[:500]})
            return doc

        doc, _ = update_document(self.documents, candidate_key(self.model_name, version), apply)
        return Candidate.from_dict(doc)

    def production(self) -> Production:
        stored = self.documents.get(production_key(self.model_name))
        return Production.from_dict(stored.doc if stored else None, self.model_name)

    def change_production(self, change: Callable[[Production], Production | None]) -> Production:
        def apply(doc: dict | None) -> dict | None:
            changed = change(Production.from_dict(doc, self.model_name))
            if changed is None:
                return None
            changed.updated_at = iso(self.clock())
            return changed.to_dict()

        doc, _ = update_document(self.documents, production_key(self.model_name), apply)
        return Production.from_dict(doc, self.model_name)
