"""Data batches: one uploaded file version (blob name + ETag) and the verdict on it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from shared.domain.records import from_record

ACCEPTED, REJECTED = "accepted", "rejected"  # a batch is recorded once, with its verdict


@dataclass(frozen=True)
class BatchRef:
    """What a training job needs to find one accepted file version again."""

    container: str
    name: str
    etag: str
    sha256: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "BatchRef":
        return cls(doc["container"], doc["name"], doc["etag"], doc["sha256"])


@dataclass
class DataBatch:
    container: str
    name: str
    etag: str
    size: int
    status: str
    received_at: str
    decided_at: str | None = None
    rows: int = 0
    sha256: str = ""
    summary: str = ""
    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0
    quarantine: dict | None = None
    training_requested: bool = False

    @property
    def ref(self) -> BatchRef:
        return BatchRef(self.container, self.name, self.etag, self.sha256)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "DataBatch":
        return from_record(cls, doc)
