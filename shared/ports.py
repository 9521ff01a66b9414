"""The ports: what the core needs from storage, the ML platform and the outside world.

Adapters in `shared.adapters` implement them; `shared.bootstrap` picks the adapters
from settings; unit tests use the in-memory fakes in `tests/fakes.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

from shared.domain.batches import BatchRef
from shared.domain.training import JobStatus


class DocumentExists(Exception):
    """create() found a document already stored under that key."""


class DocumentChanged(Exception):
    """replace() was given an ETag that is no longer current (someone else wrote first)."""


@dataclass(frozen=True)
class Versioned:
    key: str
    doc: dict
    etag: str


class DocumentStore(Protocol):
    """JSON documents under string keys with ETag-conditional writes (Blob Storage in Azure)."""

    def get(self, key: str) -> Versioned | None:
        """The document and its ETag, or None."""

    def create(self, key: str, doc: dict) -> str:
        """Store a new document; raise DocumentExists if the key is taken. Returns the ETag."""

    def replace(self, key: str, doc: dict, etag: str) -> str:
        """Overwrite only if the stored ETag still equals `etag`, else raise DocumentChanged."""

    def list(self, prefix: str) -> list[Versioned]:
        """All documents whose key starts with `prefix`, in key order."""


@dataclass(frozen=True)
class FileInfo:
    container: str
    name: str
    etag: str
    size: int


class FileNotFound(Exception):
    pass


class FileStore(Protocol):
    """Data files in blob containers."""

    def info(self, container: str, name: str) -> FileInfo:
        """Current ETag and size; raise FileNotFound."""

    def read_chunks(self, container: str, name: str, etag: str, chunk_size: int = 4 * 1024 * 1024) -> Iterator[bytes]:
        """Stream the file version with this ETag; raise FileNotFound if it changed or vanished."""

    def copy(self, container: str, name: str, etag: str, to_container: str, to_name: str) -> None:
        """Server-side copy of that file version (the source is never modified)."""

    def write(self, container: str, name: str, data: bytes, content_type: str = "application/json") -> None:
        """Create or overwrite a small file."""


@dataclass(frozen=True)
class TrainingJobRequest:
    """A command job: the training code run on a set of data files (Azure ML command job shape)."""

    job_name: str
    model_name: str
    inputs: tuple[BatchRef, ...]
    training_set_id: str
    parameters: dict = field(default_factory=dict)
    experiment: str = "diabetes-training"


@dataclass(frozen=True)
class ModelVersionInfo:
    name: str
    version: str
    run_id: str | None
    source: str
    tags: dict
    metrics: dict


class MLPlatform(Protocol):
    """The ML platform: command jobs and the model registry (endpoints come with the outer loop)."""

    def submit_training_job(self, request: TrainingJobRequest) -> str:
        """Start the job; idempotent by job name (a second submit returns the same job)."""

    def get_job(self, job_name: str) -> JobStatus:
        """Current status, log tail and, once completed, the registered model version."""

    def get_model_version(self, name: str, version: str) -> ModelVersionInfo:
        """A registered model version with its tags and its run's metrics."""


@dataclass(frozen=True)
class Notification:
    kind: str  # e.g. "data.rejected", "job.failed"
    title: str
    text: str
    facts: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)


class Notifier(Protocol):
    """Tells people what happened (Teams, a generic webhook, or the log)."""

    def notify(self, notification: Notification) -> None:
        """Best effort: must not raise for delivery failures (they are logged)."""
