"""Training requests (debounced by a quiet period), job submission and job outcomes."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from shared.domain.batches import BatchRef
from shared.domain.clock import iso, parse_iso, utc_now
from shared.domain.errors import NotFound
from shared.domain.training import (
    FAILED,
    QUEUED,
    RUNNING,
    STATUSES,
    TERMINAL,
    JobStatus,
    TrainingJob,
    job_key,
    training_set_id,
)
from shared.ports import DocumentStore, MLPlatform, Notification, Notifier, TrainingJobRequest
from shared.services.documents import update_document

log = logging.getLogger(__name__)

PENDING_KEY = "training/pending"
ACCEPTED_DATA_KEY = "training/accepted-data"


@dataclass(frozen=True)
class TrainingConfig:
    model_name: str
    quiet_period_seconds: float
    parameters: dict = field(default_factory=dict)


class TrainingService:
    """Turns accepted data into training jobs and records what the jobs became."""

    def __init__(self, documents: DocumentStore, platform: MLPlatform, notifier: Notifier, config: TrainingConfig, clock=utc_now):
        self.documents = documents
        self.platform = platform
        self.notifier = notifier
        self.config = config
        self.clock = clock

    def add_accepted(self, batch: BatchRef) -> None:
        """Add the batch to the accepted data (the training set of the next job); idempotent."""

        def add(doc: dict | None) -> dict | None:
            doc = doc or {"batches": []}
            if batch.to_dict() in doc["batches"]:
                return None
            doc["batches"].append(batch.to_dict())
            return doc

        update_document(self.documents, ACCEPTED_DATA_KEY, add)

    def request_training(self, batch: BatchRef | None, reason: str) -> None:
        """Ask for a job on all accepted data once the quiet period has passed (restarted by each
        request); idempotent per batch. `batch` None: a request without new data (drift, schedule)."""
        now = self.clock()
        if batch is not None:
            self.add_accepted(batch)

        def add_to_pending(doc: dict | None) -> dict | None:
            doc = doc if doc and doc.get("open") else _new_request(now)
            if batch is not None and batch.to_dict() in doc["batches"]:
                return None
            if batch is not None:
                doc["batches"].append(batch.to_dict())
            if reason not in doc["reasons"]:
                doc["reasons"].append(reason)
            doc["due_at"] = iso(now + timedelta(seconds=self.config.quiet_period_seconds))
            return doc

        update_document(self.documents, PENDING_KEY, add_to_pending)

    def pending_request(self) -> dict | None:
        stored = self.documents.get(PENDING_KEY)
        return stored.doc if stored and stored.doc.get("open") else None

    def submit_due_training(self) -> TrainingJob | None:
        """Submit one job on all accepted data once the quiet period has passed (timer-driven)."""
        request = self.pending_request()
        if not request or parse_iso(request["due_at"]) > self.clock():
            return None
        inputs = self.accepted_data()
        job = self._create_job_record(request["job_name"], inputs, "; ".join(request["reasons"]))
        # The job record is the truth: after a crash it may hold an earlier training set.
        trained_on = [BatchRef.from_dict(b) for b in job.batches]
        self._submit(job, trained_on)
        self._close_request(request["request_id"], trained_on)
        return job

    def accepted_data(self) -> list[BatchRef]:
        return accepted_data(self.documents)

    def record_job_status(self, job_name: str, reported: JobStatus | None = None) -> TrainingJob:
        """Bring the job record up to date with the platform; terminal states never regress."""
        if not self.documents.get(job_key(job_name)):
            raise NotFound(f"training job {job_name!r} is unknown")
        status = reported or self.platform.get_job(job_name)
        if status.status not in STATUSES:
            status = JobStatus(job_name, RUNNING)

        def apply(doc: dict | None) -> dict | None:
            job = TrainingJob.from_dict(doc)
            if job.finished or job.status == status.status:
                return None
            job.status = status.status
            job.log_tail = status.log_tail or job.log_tail
            job.error = status.error or job.error
            job.model_version = status.model_version or job.model_version
            job.run_id = status.run_id or job.run_id
            job.metrics = status.metrics or job.metrics
            if status.status in TERMINAL:
                job.finished_at = iso(self.clock())
            return job.to_dict()

        doc, changed = update_document(self.documents, job_key(job_name), apply)
        job = TrainingJob.from_dict(doc)
        if changed and job.status == FAILED:
            self._notify_failed(job)
        return job

    def record_model_version(self, job_name: str, version: str, run_id: str | None) -> None:
        """Link a registered model version to the job that produced it (any event order)."""

        def apply(doc: dict | None) -> dict | None:
            if doc is None or doc.get("model_version") == version:
                return None
            return {**doc, "model_version": version, "run_id": run_id or doc.get("run_id")}

        update_document(self.documents, job_key(job_name), apply)

    def list_jobs(self) -> list[TrainingJob]:
        jobs = [TrainingJob.from_dict(v.doc) for v in self.documents.list("jobs/")]
        refreshed = [job if job.finished else self._refresh(job) for job in jobs]
        return sorted(refreshed, key=lambda j: j.submitted_at, reverse=True)

    def get_job(self, job_name: str) -> TrainingJob:
        stored = self.documents.get(job_key(job_name))
        if not stored:
            raise NotFound(f"training job {job_name!r} is unknown")
        job = TrainingJob.from_dict(stored.doc)
        return job if job.finished else self._refresh(job)

    def _refresh(self, job: TrainingJob) -> TrainingJob:
        try:
            return self.record_job_status(job.name)
        except Exception:  # a status page must not fail because the platform is slow
            log.warning("could not refresh job %s", job.name, exc_info=True)
            return job

    def _create_job_record(self, job_name: str, inputs: list[BatchRef], reason: str) -> TrainingJob:
        job = TrainingJob(
            name=job_name,
            model_name=self.config.model_name,
            status=QUEUED,
            batches=[b.to_dict() for b in inputs],
            training_set_id=training_set_id(inputs),
            submitted_at=iso(self.clock()),
            reason=reason,
        )
        doc, _ = update_document(self.documents, job.key, lambda current: None if current else job.to_dict())
        return TrainingJob.from_dict(doc)

    def _submit(self, job: TrainingJob, inputs: list[BatchRef]) -> None:
        request = TrainingJobRequest(
            job_name=job.name,
            model_name=job.model_name,
            inputs=tuple(inputs),
            training_set_id=job.training_set_id,
            parameters=dict(self.config.parameters),
        )
        self.platform.submit_training_job(request)
        log.info("submitted training job %s on %d data files", job.name, len(request.inputs))

        def mark_running(doc: dict | None) -> dict | None:
            return {**doc, "status": RUNNING} if doc and doc["status"] == QUEUED else None

        update_document(self.documents, job.key, mark_running)

    def _close_request(self, request_id: str, included: list[BatchRef]) -> None:
        included_dicts = [b.to_dict() for b in included]
        now = self.clock()

        def close(doc: dict | None) -> dict | None:
            if not doc or doc.get("request_id") != request_id:
                return None
            remaining = [b for b in doc["batches"] if b not in included_dicts]
            if not remaining:
                return {**doc, "open": False, "closed_at": iso(now)}
            # Data accepted while we were submitting: it starts the next request.
            fresh = _new_request(now)
            fresh.update(batches=remaining, due_at=doc["due_at"], reasons=["data accepted during submission"])
            return fresh

        update_document(self.documents, PENDING_KEY, close)

    def _notify_failed(self, job: TrainingJob) -> None:
        self.notifier.notify(
            Notification(
                kind="job.failed",
                title=f"Training job failed: {job.name}",
                text=job.error or "the training job failed",
                facts={"job": job.name, "model": job.model_name, "data files": len(job.batches), "log tail": job.log_tail[-1500:]},
            )
        )


def accepted_data(documents: DocumentStore) -> list[BatchRef]:
    """Every accepted data file, in the order it was accepted (one document read)."""
    stored = documents.get(ACCEPTED_DATA_KEY)
    return [BatchRef.from_dict(b) for b in (stored.doc["batches"] if stored else [])]


def _new_request(now) -> dict:
    request_id = uuid.uuid4().hex
    return {
        "request_id": request_id,
        "job_name": f"train-{now:%Y%m%d-%H%M%S}-{request_id[:6]}",
        "requested_at": iso(now),
        "open": True,
        "batches": [],
        "reasons": [],
        "due_at": iso(now),
    }
