"""The ML platform port: command jobs and the model registry (Azure ML, or local processes + MLflow)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Protocol
from urllib.parse import urlsplit

from shared.domain.batches import BatchRef
from shared.domain.evaluation import ScoredRows
from shared.domain.training import JobStatus


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


def artifact_digest(file_hashes: Iterable[tuple[str, str]]) -> str:
    """The digest of a model version's artifact files from (relative/path, sha256 hex of the file)
    pairs, in any order: "sha256:" + hex of sha256 over the sorted "relative/path\0<sha256>\n" lines."""
    lines = sorted(f"{path}\0{sha}\n" for path, sha in file_hashes)
    return "sha256:" + hashlib.sha256("".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def page_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) address a page may link to, else None; the user info, query
    and fragment of a base address (a tracking URI may carry a password or a token) are dropped by
    `page_base`, and an address that still has user info is refused here."""
    if not isinstance(url, str) or any(c.isspace() or c in "\"'<>\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            return None
        parts.port  # noqa: B018 - an invalid port raises
    except ValueError:
        return None
    return url


def page_base(uri: str) -> str | None:
    """The scheme, host, port and path of an http(s) server address (the MLflow UI under its tracking
    URI), without user info, query or fragment; None for any other kind of address (file:, azureml:)."""
    try:
        parts = urlsplit(uri.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return page_url(f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}")


class MLPlatform(Protocol):
    """The ML platform: command jobs and the model registry (endpoints come with the outer loop)."""

    def submit_training_job(self, request: TrainingJobRequest) -> str:
        """Start the job; idempotent by job name (a second submit returns the same job)."""

    def get_job(self, job_name: str) -> JobStatus:
        """Current status, log tail and, once completed, the registered model version."""

    def get_model_version(self, name: str, version: str) -> ModelVersionInfo:
        """A registered model version with its tags and its run's metrics; NotFound when the registry has no such version."""

    def model_artifact_digest(self, name: str, version: str) -> str:
        """What exactly the version is: "sha256:" + hex of sha256 over the sorted
        "relative/path\0<sha256 hex of the file>\n" lines of the version's artifact files (paths
        relative to the version's artifact folder, "/"-separated), as `artifact_digest` computes it;
        NotFound when the registry has no such version."""

    def run_url(self, run_id: str) -> str | None:
        """The run's page in the platform's own UI (the MLflow UI, Azure ML studio) for a reviewer to open:
        an http(s) address with no key, token or password in it (`page_url`); None when the platform has
        no such page; NotFound when the platform knows it has no such run."""

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
