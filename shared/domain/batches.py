"""Data batches: one uploaded file version (blob name + ETag) and the verdict on it; the training
data: the accepted versions the next job trains on, one per file name."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from shared.domain.clock import parse_iso
from shared.domain.records import from_record

ACCEPTED, REJECTED = "accepted", "rejected"  # a batch is recorded once, with its verdict


def batch_id(name: str, etag: str) -> str:
    """A short, path-safe id of one file version, whatever the blob name (up to 1,024 characters)."""
    return hashlib.sha256(f"{name}\0{etag.strip(chr(34))}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class BatchRef:
    """One accepted file version: the uploaded file's name and ETag (data, never a path we derive)
    and its immutable copy, the exact bytes that were validated (what jobs read)."""

    container: str
    name: str
    etag: str
    sha256: str
    copy_name: str = ""  # "" only for versions accepted before copies were kept: then the original is read
    copy_etag: str = ""

    @property
    def id(self) -> str:
        return batch_id(self.name, self.etag)

    @property
    def stored_at(self) -> tuple[str, str, str]:
        """(container, blob, ETag) of this version's bytes: the copy, which no upload or delete changes."""
        if self.copy_name:
            return self.container, self.copy_name, self.copy_etag
        return self.container, self.name, self.etag

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "BatchRef":
        return cls(doc["container"], doc["name"], doc["etag"], doc["sha256"],
                   doc.get("copy_name", ""), doc.get("copy_etag", ""))


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
    id: str = ""
    copy_name: str = ""
    copy_etag: str = ""
    superseded_by: str | None = None  # the id of the version of the same name that replaced it
    superseded_at: str | None = None
    withdrawn_at: str | None = None  # DELETE /api/data/{name}: out of every later training set
    uploaded_by: str = ""  # the blob's `uploaded_by` metadata, when the uploader set it: a requester of its training

    def __post_init__(self) -> None:
        self.id = self.id or batch_id(self.name, self.etag)

    @property
    def ref(self) -> BatchRef:
        return BatchRef(self.container, self.name, self.etag, self.sha256, self.copy_name, self.copy_etag)

    def supersede(self, newer_id: str, at: str) -> bool:
        if self.superseded_by == newer_id or newer_id == self.id:
            return False
        self.superseded_by, self.superseded_at = newer_id, at
        return True

    def withdraw(self, at: str) -> bool:
        if self.withdrawn_at:
            return False
        self.withdrawn_at = at
        return True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "DataBatch":
        return from_record(cls, doc)


@dataclass(frozen=True)
class Acceptance:
    """What joining the training data did: `replaced` left it for this version; `superseded_by`
    (a version seen later) or a withdrawal kept this version out."""

    joined: bool
    replaced: str | None = None
    superseded_by: str | None = None
    withdrawn: bool = False


@dataclass
class TrainingData:
    """The accepted versions the next job trains on, in acceptance order. Per file name only the
    version seen last counts (a re-upload supersedes, whichever event arrives first); a withdrawn
    name keeps out every version seen before its withdrawal."""

    batches: list[BatchRef] = field(default_factory=list)
    seen_at: dict[str, str] = field(default_factory=dict)  # version id → when its validation began
    supersedes: dict[str, str] = field(default_factory=dict)  # version id → the id it replaced
    withdrawn: dict[str, dict] = field(default_factory=dict)  # name → {"at", "by", "audited"}

    def accept(self, ref: BatchRef, seen_at: str) -> tuple[Acceptance, bool]:
        """Join (replacing an older version of the name); (what happened, whether anything changed)."""
        if any(b.id == ref.id for b in self.batches):
            return Acceptance(True, replaced=self.supersedes.get(ref.id)), False
        withdrawal = self.withdrawn.get(ref.name)
        if withdrawal and _later_or_same(withdrawal["at"], seen_at):
            return Acceptance(False, withdrawn=True), False
        current = next((b for b in self.batches if b.name == ref.name), None)
        if current and _later_or_same(self.seen_at.get(current.id), seen_at):
            return Acceptance(False, superseded_by=current.id), False
        if current:
            self.batches.remove(current)
            self.supersedes[ref.id] = current.id
        self.batches.append(ref)
        self.seen_at[ref.id] = seen_at
        return Acceptance(True, replaced=current.id if current else None), True

    def withdraw(self, name: str, at: str, by: str) -> list[BatchRef]:
        """Take every version of `name` out; the versions removed (none: nothing changed, or only the record)."""
        removed = [b for b in self.batches if b.name == name]
        if not removed and name in self.withdrawn:
            return []
        self.batches = [b for b in self.batches if b.name != name]
        self.withdrawn[name] = {"at": at, "by": by, "audited": False}
        return removed

    def holds(self, name: str) -> bool:
        return any(b.name == name for b in self.batches)

    def to_dict(self) -> dict:
        return {"batches": [b.to_dict() for b in self.batches], "seen_at": self.seen_at,
                "supersedes": self.supersedes, "withdrawn": self.withdrawn}

    @classmethod
    def from_dict(cls, doc: dict | None) -> "TrainingData":
        doc = doc or {}
        return cls([BatchRef.from_dict(b) for b in doc.get("batches", [])], dict(doc.get("seen_at", {})),
                   dict(doc.get("supersedes", {})), {k: dict(v) for k, v in doc.get("withdrawn", {}).items()})


def _later_or_same(first: str | None, second: str) -> bool:
    """`first` is at or after `second` (a missing time: before anything)."""
    return bool(first) and parse_iso(first) >= parse_iso(second)
