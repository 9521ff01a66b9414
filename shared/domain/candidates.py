"""Candidates (registered versions on their way to production), approvals and the production record.

Each object owns its state transitions: a service loads it, calls one transition inside an
ETag-conditional update, and stores it; a transition that is not allowed raises Conflict.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from shared.domain.clock import iso
from shared.domain.errors import Conflict, Forbidden
from shared.domain.principals import Principal, is_requester
from shared.domain.records import from_record, set_fields
from shared.domain.steps import DONE, GATE, PROMOTE, REJECT, REQUEST_APPROVAL, ROLLBACK_DEPLOY, STEP_LABELS, StepState

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
DECIDING = "deciding"  # claimed by one decision; its steps run (promotion or teardown)
APPROVED = "approved"
PROMOTION_FAILED = "promotion_failed"  # approved, but the health-checked switch failed: the champion kept traffic
VOID = "void"  # the candidate's artifacts or its evidence changed after the request: no decision can apply
APPROVAL_OPEN = frozenset({PENDING, DECIDING})
APPROVAL_FINAL = frozenset({APPROVED, REJECTED, EXPIRED, SUPERSEDED, FAILED, PROMOTION_FAILED, VOID})
APPROVAL_STATUSES = frozenset({PENDING}) | APPROVAL_FINAL
LISTABLE_APPROVAL_STATUSES = APPROVAL_STATUSES | {DECIDING}
ACTIONS = ("approve", "reject")
ACTION_STATUS = {"approve": APPROVED, "reject": REJECTED}


class ApprovalExpired(Conflict):
    """A decision arrived after the approval's expiry."""


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
    steps: dict = field(default_factory=dict)  # StepState: the step due, its run, its message
    requested_by: list[str] = field(default_factory=list)  # who asked for its training: they may not approve it

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def last_change(self) -> str:
        return self.history[-1]["at"] if self.history else self.received_at

    def move_to(self, status: str, at: datetime, detail: str = "", **fields) -> None:
        """Record a step of the candidate's path (with the figures it produced)."""
        set_fields(self, fields)
        self.status = status
        self.history.append({"at": iso(at), "status": status, "detail": detail[:500]})

    def retry(self, at: datetime) -> None:
        """A new run of the pipeline from the gate; messages of the earlier run stop counting."""
        if self.status not in RETRYABLE:
            raise Conflict(f"candidate v{self.version} is {self.status}; only {sorted(RETRYABLE)} can be redeployed")
        self.move_to(RECEIVED, at, "redeploy requested")
        steps = StepState.from_dict(self.steps)
        steps.restart(GATE, iso(at))
        self.steps = steps.to_dict()

    def approval_voided(self, approval_id: str, reason: str, at: datetime) -> bool:
        """Its approval became void (what was reviewed changed): failed at the approval request, so a
        redeploy can ask again; False, and nothing changes, unless it still awaits that very approval."""
        if self.status != AWAITING_APPROVAL or self.approval_id != approval_id:
            return False
        error = f"approval {approval_id} is void: {reason}; redeploy re-runs the gate and asks again"
        self.move_to(FAILED, at, error, error=error[:2000], failed_step=STEP_LABELS[REQUEST_APPROVAL])
        return True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "Candidate":
        return from_record(cls, doc)


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
    steps: dict = field(default_factory=dict)  # StepState of the claimed decision's steps
    requested_by: list[str] = field(default_factory=list)  # the candidate's requesters (four-eyes rule)
    # What was reviewed ("" for approvals made before binding): "sha256:..." of the version's artifact
    # files and of the evidence document; a decision on anything else voids the approval.
    artifact_digest: str = ""
    evidence_digest: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in APPROVAL_OPEN

    def expired(self, now: datetime) -> bool:
        return datetime.fromisoformat(self.expires_at) <= now

    def check_link_unused(self, fingerprint: str | None) -> None:
        if fingerprint is not None and fingerprint in self.used_links:
            raise Forbidden("this link has already been used")

    def check_decider(self, action: str, decider: Principal) -> None:
        """Four eyes: whoever asked for the candidate's training may not approve it (rejecting stays open)."""
        if action == "approve" and is_requester(decider, self.requested_by):
            raise Forbidden("the requester of a candidate may not approve it")

    def claim(self, action: str, reviewer: str, comment: str, via: str, now: datetime,
              link_fingerprint: str | None = None) -> None:
        """One decision takes the approval (→ deciding); a used link, a decided or an expired one cannot."""
        self.check_link_unused(link_fingerprint)
        if self.status != PENDING:
            raise Conflict(f"approval {self.id} is already {self.status}")
        if self.expired(now):
            raise ApprovalExpired(f"approval {self.id} has expired")
        self.status, self.decided_by, self.decided_at, self.decided_via = DECIDING, reviewer, iso(now), via
        self.comment, self.reason = comment[:2000], action
        if link_fingerprint:
            self.used_links.append(link_fingerprint)
        self.steps = StepState(PROMOTE if action == "approve" else REJECT, started_at=iso(now)).to_dict()

    def close(self, status: str, actor: str, reason: str, via: str, now: datetime) -> bool:
        """End a pending approval without a promotion (expired, superseded); False if no longer pending."""
        if self.status != PENDING:
            return False
        self.status, self.decided_by, self.decided_at, self.decided_via, self.reason = status, actor, iso(now), via, reason
        return True

    def void(self, reason: str, at: datetime) -> None:
        """What was reviewed changed (artifacts or evidence): the pending approval can never be decided."""
        if self.status != PENDING:
            raise Conflict(f"approval {self.id} is already {self.status}")
        self.status, self.decided_by, self.decided_at, self.reason = VOID, "system", iso(at), reason[:2000]

    def finish(self, status: str, reason: str | None = None) -> None:
        """The claimed decision's outcome: approved, rejected, or failed (with why)."""
        if status not in APPROVAL_FINAL:
            raise ValueError(f"{status!r} is not a final approval status")
        self.status = status
        self.reason = reason or self.reason

    def remind(self, now: datetime) -> bool:
        if self.reminded_at:
            return False
        self.reminded_at = iso(now)
        return True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "Approval":
        return from_record(cls, doc)


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
    previous_kept_until: str | None = None  # the previous champion's deployment stays until then (bake period)
    rollback: dict = field(default_factory=dict)  # the rollback under way: by, comment, deployment, steps
    updated_at: str | None = None

    def claim_newest(self, version: str, retry: bool) -> bool:
        """Take `version` as the newest candidate; False when a newer one (or, unless retrying, the same) was seen."""
        newest = int(self.newest_candidate or 0)
        if int(version) < newest or (int(version) == newest and not retry):
            return False
        self.newest_candidate = version
        return True

    def stage(self, version: str, deployment: str, approval_id: str) -> None:
        self.staging_version, self.staging_deployment, self.staging_approval = version, deployment, approval_id

    def unstage(self, approval_id: str) -> bool:
        """Forget the staging deployment if it still belongs to that approval."""
        if self.staging_approval != approval_id:
            return False
        self.staging_version = self.staging_deployment = self.staging_approval = None
        return True

    def promote(self, version: str, deployment: str, approval_id: str, keep_previous_until: str | None = None) -> None:
        """The approved candidate becomes champion; the old champion is remembered for rollback
        (and its deployment kept until `keep_previous_until`)."""
        if self.champion_version != version:
            self.previous_version, self.previous_deployment = self.champion_version, self.champion_deployment
            self.previous_kept_until = keep_previous_until if self.previous_deployment else None
        self.champion_version, self.champion_deployment = version, deployment
        self.unstage(approval_id)

    def forget_previous_deployment(self, deployment: str) -> bool:
        """The bake period is over and that deployment was removed: a rollback will redeploy."""
        if self.previous_deployment != deployment:
            return False
        self.previous_deployment, self.previous_kept_until = None, None
        return True

    def request_rollback(self, reviewer: str, comment: str, deployment: str, at: str) -> None:
        """Claim the rollback to the previous champion; Conflict when there is none or one runs."""
        if not self.previous_version:
            raise Conflict("there is no previous champion to roll back to")
        if self.rollback and StepState.from_dict(self.rollback.get("steps")).step != DONE:
            raise Conflict(f"a rollback requested by {self.rollback.get('by')} at {self.rollback.get('at')} is under way")
        run = StepState.from_dict(self.rollback.get("steps")).attempt + 1 if self.rollback else 1
        self.rollback = {"by": reviewer, "comment": comment[:2000], "at": at, "to_version": self.previous_version,
                         "from_version": self.champion_version, "deployment": deployment,
                         "steps": StepState(ROLLBACK_DEPLOY, attempt=run, started_at=at).to_dict()}

    @property
    def rollback_under_way(self) -> bool:
        return bool(self.rollback) and StepState.from_dict(self.rollback.get("steps")).step != DONE

    def roll_back(self, deployment: str, keep_previous_until: str | None = None) -> None:
        """The previous champion (now served by `deployment`) and the current one swap places."""
        if not self.previous_version:
            raise Conflict("there is no previous champion to roll back to")
        previous = self.previous_version
        self.previous_version, self.previous_deployment = self.champion_version, self.champion_deployment
        self.champion_version, self.champion_deployment = previous, deployment
        self.previous_kept_until = keep_previous_until

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict | None, model_name: str) -> "Production":
        return from_record(cls, doc) if doc else cls(model_name)
