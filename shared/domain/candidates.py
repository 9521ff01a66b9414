"""Candidates (registered versions on their way to production), approvals and the production record."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Candidate statuses
RECEIVED = "received"
GATING = "gating"
GATE_FAILED = "gate_failed"
DEPLOYING = "deploying"
SMOKE_FAILED = "smoke_failed"
AWAITING_APPROVAL = "awaiting_approval"
PROMOTED = "promoted"
REJECTED = "rejected"
EXPIRED = "expired"
SUPERSEDED = "superseded"
STALE = "stale"  # an older version that arrived after a newer one
FAILED = "failed"
IN_PROGRESS = frozenset({RECEIVED, GATING, DEPLOYING})
RETRYABLE = frozenset({FAILED, SMOKE_FAILED})

# Approval statuses
PENDING = "pending"
APPROVED = "approved"
APPROVAL_FINAL = frozenset({APPROVED, REJECTED, EXPIRED, SUPERSEDED, FAILED})
APPROVAL_STATUSES = frozenset({PENDING}) | APPROVAL_FINAL
ACTIONS = ("approve", "reject")


@dataclass
class Candidate:
    model_name: str
    version: str
    status: str
    received_at: str
    run_id: str | None = None
    source: str = ""
    deployment: str | None = None
    gate: dict = field(default_factory=dict)
    smoke: dict = field(default_factory=dict)
    approval_id: str | None = None
    error: str = ""
    failed_step: str = ""
    history: list[dict] = field(default_factory=list)

    @property
    def key(self) -> str:
        return candidate_key(self.model_name, self.version)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "Candidate":
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})


def candidate_key(model_name: str, version: str) -> str:
    return f"candidates/{model_name}/{int(version):08d}"


@dataclass
class Approval:
    id: str
    model_name: str
    candidate_version: str
    deployment: str
    champion_version: str | None
    champion_deployment: str | None
    gate: dict
    smoke: dict
    training_set: dict
    created_at: str
    expires_at: str
    status: str = PENDING
    decided_by: str | None = None
    decided_at: str | None = None
    decided_via: str | None = None
    comment: str = ""
    reason: str = ""
    reminded_at: str | None = None
    used_links: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return approval_key(self.id)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "Approval":
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})


def approval_key(approval_id: str) -> str:
    return f"approvals/{approval_id}"


@dataclass
class Production:
    """Who serves production, who came before (for rollback), and the newest candidate seen."""

    model_name: str
    champion_version: str | None = None
    champion_deployment: str | None = None
    previous_version: str | None = None
    previous_deployment: str | None = None
    newest_candidate: str | None = None
    staging_version: str | None = None
    staging_deployment: str | None = None
    staging_approval: str | None = None
    updated_at: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict | None, model_name: str) -> "Production":
        if not doc:
            return cls(model_name)
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})


def production_key(model_name: str) -> str:
    return f"production/{model_name}"
