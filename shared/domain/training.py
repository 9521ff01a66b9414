"""Training sets and training jobs."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from shared.domain.batches import BatchRef
from shared.domain.clock import iso
from shared.domain.records import from_record

# TrainingJobRequest.parameters → training/train.py flags (the script's command-line contract).
TRAINING_FLAGS = {
    "algorithm": "--algorithm",
    "reg_rate": "--reg-rate",
    "n_estimators": "--n-estimators",
    "learning_rate": "--learning-rate",
    "max_depth": "--max-depth",
    "test_size": "--test-size",
    "seed": "--seed",
}

# A job tag: who asked for the job (comma-separated names or ids), e.g. the workflow's GitHub actor
# for a job submitted outside the service (infra/scripts/retrain_current.py).
REQUESTED_BY_TAG = "requested_by"

QUEUED, RUNNING, COMPLETED, FAILED, CANCELED = "queued", "running", "completed", "failed", "canceled"
TERMINAL = frozenset({COMPLETED, FAILED, CANCELED})
STATUSES = frozenset({QUEUED, RUNNING, COMPLETED, FAILED, CANCELED})


def training_set_id(batches: list[BatchRef]) -> str:
    """Content identity of a training set: order-free, blob-name and content-hash based."""
    digest = hashlib.sha256()
    for name, sha in sorted((b.name, b.sha256) for b in batches):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


@dataclass
class TrainingJob:
    name: str
    model_name: str
    status: str
    batches: list[dict]
    training_set_id: str
    submitted_at: str
    reason: str = "new data"
    finished_at: str | None = None
    model_version: str | None = None
    run_id: str | None = None
    metrics: dict = field(default_factory=dict)
    log_tail: str = ""
    error: str = ""
    requested_by: list[str] = field(default_factory=list)  # who asked for it (request, uploader): may not approve

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "TrainingJob":
        return from_record(cls, doc)

    def apply_status(self, reported: "JobStatus", now) -> bool:
        """Take the platform's report; terminal states never regress. False when nothing changed."""
        if self.finished or self.status == reported.status:
            return False
        self.status = reported.status
        self.log_tail = reported.log_tail or self.log_tail
        self.error = reported.error or self.error
        self.model_version = reported.model_version or self.model_version
        self.run_id = reported.run_id or self.run_id
        self.metrics = reported.metrics or self.metrics
        if reported.status in TERMINAL:
            self.finished_at = iso(now)
        return True

    def mark_running(self) -> bool:
        if self.status != QUEUED:
            return False
        self.status = RUNNING
        return True

    def link_model_version(self, version: str, run_id: str | None) -> bool:
        if self.model_version == version:
            return False
        self.model_version, self.run_id = version, run_id or self.run_id
        return True


@dataclass(frozen=True)
class JobStatus:
    """What the ML platform reports about one job."""

    name: str
    status: str
    log_tail: str = ""
    error: str = ""
    model_version: str | None = None
    run_id: str | None = None
    metrics: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)  # the job's tags (REQUESTED_BY_TAG among them)


def requesters(text: str) -> list[str]:
    """The names in a comma-separated requester list (a job tag), in order, each once."""
    return list(dict.fromkeys(p.strip()[:200] for p in (text or "").split(",") if p.strip()))[:20]
