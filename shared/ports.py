"""The ports: what the core needs from storage, the ML platform and the outside world.

Adapters in `shared.adapters` implement them, `shared.bootstrap` picks them from settings, unit tests fake them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Protocol

from shared.domain.batches import BatchRef
from shared.domain.evaluation import ScoredRows
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


@dataclass(frozen=True)
class KeyPage:
    """One page of a key listing; `continuation` resumes after it (None: nothing more)."""

    keys: list[str]
    continuation: str | None = None


class DocumentStore(Protocol):
    """JSON documents under string keys with ETag-conditional writes (Blob Storage in Azure)."""

    def get(self, key: str) -> Versioned | None:
        """The document and its ETag, or None."""

    def create(self, key: str, doc: dict) -> str:
        """Store a new document; raise DocumentExists if the key is taken. Returns the ETag."""

    def replace(self, key: str, doc: dict, etag: str) -> str:
        """Overwrite only if the stored ETag still equals `etag`, else raise DocumentChanged."""

    def list(self, prefix: str) -> list[Versioned]:
        """All documents whose key starts with `prefix`, in key order (downloads each: small prefixes only)."""

    def list_keys(self, prefix: str, limit: int, continuation: str | None = None) -> KeyPage:
        """Up to `limit` keys starting with `prefix`, in key order, names only (no document is read);
        `continuation` is the opaque token of the previous page."""


@dataclass(frozen=True)
class FileInfo:
    container: str
    name: str
    etag: str
    size: int
    metadata: dict = field(default_factory=dict)  # the blob's user metadata (e.g. uploaded_by)


class FileNotFound(Exception):
    pass


class FileStore(Protocol):
    """Data files in blob containers."""

    def info(self, container: str, name: str) -> FileInfo:
        """Current ETag, size and user metadata; raise FileNotFound."""

    def read_chunks(self, container: str, name: str, etag: str, chunk_size: int = 4 * 1024 * 1024) -> Iterator[bytes]:
        """Stream the file version with this ETag; raise FileNotFound if it changed or vanished."""

    def copy(self, container: str, name: str, etag: str, to_container: str, to_name: str) -> None:
        """Server-side copy of that file version (the source is never modified); FileNotFound if it changed or vanished."""

    def keep_copy(self, container: str, name: str, etag: str, to_container: str, to_name: str) -> FileInfo:
        """Server-side copy of that file version to a name written at most once (a content-addressed
        name): when `to_name` exists it is left as it is. The target's info; FileNotFound if the
        source version changed or vanished and the target does not exist."""

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
    experiment: str | None = None   # None: the platform's configured experiment (AZUREML_EXPERIMENT on Azure)


@dataclass(frozen=True)
class ModelVersionInfo:
    name: str
    version: str
    run_id: str | None
    source: str
    tags: dict
    metrics: dict
    created_by: str = ""  # who registered it, as the platform records it ("" unknown): a requester of it


@dataclass(frozen=True)
class RowsSource:
    """Rows to score: a version's held-out split and/or CSV files (labelled data, captured traffic)."""

    heldout_of: str | None = None
    files: tuple = ()  # (name, CSV chunks) pairs
    max_rows_per_file: int | None = None


class MLPlatform(Protocol):
    """The ML platform: command jobs and the model registry (endpoints come with the outer loop)."""

    def submit_training_job(self, request: TrainingJobRequest) -> str:
        """Start the job; idempotent by job name (a second submit returns the same job)."""

    def get_job(self, job_name: str) -> JobStatus:
        """Current status, log tail and, once completed, the registered model version."""

    def get_model_version(self, name: str, version: str) -> ModelVersionInfo:
        """A registered model version with its tags and its run's metrics; NotFound when the registry has no such version."""

    def list_model_versions(self, name: str) -> Iterable[ModelVersionInfo]:
        """Every registered version, all pages followed, with tags (get_model_version reads metrics); none if unregistered."""

    def evaluate_models(self, model_name: str, versions: list[str], data_from_version: str) -> dict[str, dict]:
        """Score each version on the held-out rows that `data_from_version`'s training run logged:
        {version: {"auc": .., "accuracy": .., "precision": .., "recall": .., "f1": .., "rows": n}}."""

    def get_input_example(self, model_name: str, version: str) -> tuple[list[str], list[list]]:
        """The input example logged with the model: (columns, rows)."""

    def get_baseline_profile(self, model_name: str, version: str) -> dict:
        """The training-time baseline profile logged with that version (baseline_profile.json)."""

    def score_data(self, model_name: str, version: str, csv_chunks: Iterable[bytes]) -> dict:
        """Score a labelled CSV (streamed) with that version: {"auc", "accuracy", "f1", "precision", "recall", "rows"}."""

    def predict_proba(self, model_name: str, versions: list[str], rows: RowsSource) -> ScoredRows:
        """Each version's probability of the positive class on the same rows: the held-out split of
        `rows.heldout_of`'s training run, then each file's rows (at most `rows.max_rows_per_file`),
        with the label where a row has one; PlatformError when a version or the split is missing."""


@dataclass(frozen=True)
class Notification:
    kind: str  # e.g. "data.rejected", "job.failed"
    title: str
    text: str
    facts: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)  # button label → URL (Approve / Reject / Details)
    table: tuple = ()  # rows of cells; the first row is the header (e.g. metric | candidate | champion)


class Notifier(Protocol):
    """Tells people what happened (Teams, a generic webhook, or the log)."""

    def notify(self, notification: Notification) -> None:
        """Best effort: must not raise for delivery failures (they are logged)."""


# --- Online endpoints (Azure ML managed online endpoints: named deployments, traffic weights) ---

@dataclass(frozen=True)
class DeploymentInfo:
    name: str
    model_name: str
    model_version: str
    state: str  # "Creating" | "Succeeded" | "Failed" | "Deleting" (Azure ML provisioning states)


@dataclass(frozen=True)
class EndpointInfo:
    name: str
    scoring_uri: str
    traffic: dict  # deployment name → percent of live traffic (sums to 0 or 100)
    mirror_traffic: dict  # at most one deployment, at most 50 percent
    deployments: tuple[DeploymentInfo, ...] = ()
    state: str = "Succeeded"  # the endpoint's provisioning state: "Creating"/"Updating" while an operation runs

    def deployment(self, name: str) -> DeploymentInfo | None:
        return next((d for d in self.deployments if d.name == name), None)

    @property
    def live_traffic(self) -> dict:
        """The deployments that get live traffic, with their percent (those at 0% left out)."""
        return {name: percent for name, percent in self.traffic.items() if percent}


@dataclass(frozen=True)
class ScoringResult:
    status: int
    body: object  # parsed JSON when the response was JSON, else the text
    latency_ms: float


class OnlineEndpoints(Protocol):
    """An online endpoint with named deployments of registered models and a traffic split.

    Names follow Azure's rules (3-32 characters, a letter first, letters/digits/dashes); at most 20
    deployments per endpoint. Every call raises PlatformError naming the step that failed; InvalidInput
    for a request Azure would refuse (bad name, traffic sum, ...). Inputs served: see CapturedInputs."""

    def ensure_endpoint(self, endpoint: str, wait: bool = True) -> EndpointInfo:
        """Create the endpoint if missing; return its current state (with `wait=False` at once,
        possibly still "Creating")."""

    def get_endpoint(self, endpoint: str) -> EndpointInfo:
        """Current deployments and traffic; NotFound if the endpoint does not exist."""

    def create_or_update_deployment(self, endpoint: str, deployment: str, model_name: str,
                                    model_version: str, timeout_seconds: float = 600) -> DeploymentInfo:
        """Deploy that model version under that name, at 0% traffic when new; wait until it answers."""

    def begin_deployment(self, endpoint: str, deployment: str, model_name: str, model_version: str) -> DeploymentInfo:
        """Start deploying that model version under that name (0% traffic when new) and return at once,
        usually with state "Creating"; asking again for what is deployed or deploying is a no-op."""

    def get_deployment(self, endpoint: str, deployment: str) -> DeploymentInfo | None:
        """The deployment's current state ("Creating" until it answers, then "Succeeded", or "Failed"),
        None when it does not exist (nor the endpoint)."""

    def delete_deployment(self, endpoint: str, deployment: str, wait: bool = True) -> None:
        """Remove a deployment; a no-op when absent; Conflict while it has live or mirrored traffic;
        with `wait=False` return once the deletion is accepted."""

    def set_traffic(self, endpoint: str, traffic: dict, mirror_traffic: dict | None = None,
                    wait: bool = True) -> EndpointInfo:
        """Replace the live traffic split (and the mirror split when given) in one update; with
        `wait=False` return once the update is accepted (the endpoint then reads "Updating")."""

    def invoke(self, endpoint: str, body: dict, deployment: str | None = None,
               timeout_seconds: float = 30) -> ScoringResult:
        """POST a scoring request (Azure ML MLflow body: {"input_data": {"columns", "index", "data"}}),
        to one named deployment when `deployment` is given, else split by live traffic."""


class StepQueue(Protocol):
    """The queue of pipeline steps (an Azure Storage queue; Azurite's locally), read by the
    queue-triggered function. Delivery is at least once: every step is idempotent."""

    def enqueue(self, body: str, delay_seconds: float = 0) -> None:
        """Send one message, visible after `delay_seconds` (at most 7 days)."""


class AuditLog(Protocol):
    """Append-only record of decisions, each entry hash-chained to the one before (shared.domain.audit_chain)."""

    def append(self, entry: dict) -> dict:
        """Add one entry (who, when, what, evidence) after the tail; returns it as stored, with seq, prev_hash, hash."""

    def read(self, limit: int = 100) -> list[dict]:
        """The newest `limit` entries, newest first."""


class WindowReader(Protocol):
    """Reads a data file's bytes as column chunks for the drift accumulator (CSV or Parquet)."""

    def columns(self, chunks: Iterable[bytes], file_format: str, names: Iterable[str] | None = None) -> Iterator[dict]:
        """Yield {column name: array of values} for successive row chunks of the file (only `names` when given)."""


@dataclass(frozen=True)
class CaptureSegment:
    """One file of a deployment's captured live inputs: Azure ML's data collector writes JSONL
    files under one folder per endpoint, deployment and hour; the local router one CSV per hour.
    A segment's profile is valid for one `version`: the current hour's file still grows."""

    endpoint: str
    deployment: str
    key: str        # the platform's name for the file, opaque to the core (never one of our storage keys)
    version: str    # changes whenever the file changes (its ETag, or size and mtime)
    hour: str       # start of the hour it covers, UTC, ISO-8601 ("2026-12-02T05:00:00Z")
    size: int = 0   # bytes when listed: a read covers the file as it was then


class CapturedInputs(Protocol):
    """The inputs of live traffic each deployment served, as the platform captured them
    (Azure ML data collection, or the local router's captures). Empty when nothing is captured."""

    def segments(self, endpoint: str, deployment: str, since: str | None = None) -> list[CaptureSegment]:
        """The deployment's capture files, oldest hour first; hours before `since` (ISO-8601 UTC) left out."""

    def read(self, segment: CaptureSegment) -> Iterator[bytes]:
        """The segment's rows as CSV bytes (header line first, the model's input columns), in chunks
        of bounded size: a large file is streamed, never held whole. Nothing when the file is gone."""
