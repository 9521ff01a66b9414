"""What the outer loop shares: its configuration, its ports, and small helpers on records."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from shared.domain.candidates import PENDING, Approval, Candidate, Production, approval_key, candidate_key, production_key
from shared.domain.clock import iso, utc_now
from shared.domain.errors import NotFound
from shared.domain.gate import GatePolicy
from shared.ports import AuditLog, DocumentStore, FileStore, MLPlatform, Notifier, OnlineEndpoints
from shared.services.documents import update_document

log = logging.getLogger(__name__)


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

    def candidates(self) -> list[Candidate]:
        """Every candidate of the model, newest version first."""
        stored = self.documents.list(f"candidates/{self.model_name}/")
        return [Candidate.from_dict(v.doc) for v in reversed(stored)]

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

    def unstage(self, approval_id: str) -> Production:
        """Forget the staging deployment if it still belongs to that approval."""

        def clear(production: Production) -> Production | None:
            if production.staging_approval != approval_id:
                return None
            production.staging_version = production.staging_deployment = production.staging_approval = None
            return production

        return self.change_production(clear)


def close_approval(ports: DeliveryPorts, records: Records, approval_id: str, status: str, actor: str,
                   reason: str, via: str = "system") -> Approval | None:
    """Close a pending approval (expired, superseded) without a promotion; None if it was no longer pending."""
    now = ports.clock()

    def close(doc: dict | None) -> dict | None:
        if doc is None or doc["status"] != PENDING:
            return None
        return {**doc, "status": status, "decided_by": actor, "decided_at": iso(now), "decided_via": via, "reason": reason}

    doc, changed = update_document(ports.documents, approval_key(approval_id), close)
    if not changed:
        return None
    approval = Approval.from_dict(doc)
    records.set_candidate(approval.candidate_version, status, reason)
    records.unstage(approval.id)
    ports.audit.append({"at": iso(now), "action": status, "actor": actor, "via": via, "model": approval.model_name,
                        "version": approval.candidate_version, "approval_id": approval.id, "reason": reason})
    return approval


def remove_staging_deployment(endpoints: OnlineEndpoints, endpoint_name: str, deployment: str) -> None:
    """Take any mirror off the deployment, then delete it; never one that serves live traffic."""
    endpoint = endpoints.get_endpoint(endpoint_name)
    if endpoint.traffic.get(deployment):
        return  # live traffic: not a staging deployment any more
    if endpoint.mirror_traffic.get(deployment):
        endpoints.set_traffic(endpoint_name, dict(endpoint.traffic), {})
    endpoints.delete_deployment(endpoint_name, deployment)
