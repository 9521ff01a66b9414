"""Training requests (debounced by a quiet period), job submission and job outcomes."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from shared.domain.batches import Acceptance, BatchRef
from shared.domain.clock import iso, parse_iso
from shared.domain.errors import NotFound
from shared.domain.training import FAILED, QUEUED, RUNNING, STATUSES, JobStatus, TrainingJob, training_set_id
from shared.ports import MLPlatform, Notification, Notifier, TrainingJobRequest
from shared.services.repositories import Page, Repositories

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    model_name: str
    quiet_period_seconds: float
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingSet:
    """What a job submitted now would train on: the accepted file versions (each read from its
    immutable copy), their content id (the manifest id train.py computes too) and the job's parameters."""

    model_name: str
    batches: tuple[BatchRef, ...]
    id: str
    parameters: dict

    def to_dict(self) -> dict:
        return {"model_name": self.model_name, "training_set_id": self.id, "count": len(self.batches),
                "parameters": dict(self.parameters),
                "batches": [{**b.to_dict(), "id": b.id} for b in self.batches]}


class TrainingService:
    """Turns accepted data into training jobs and records what the jobs became."""

    def __init__(self, repos: Repositories, platform: MLPlatform, notifier: Notifier, config: TrainingConfig, clock):
        self.repos = repos
        self.jobs = repos.jobs
        self.platform = platform
        self.notifier = notifier
        self.config = config
        self.clock = clock

    def add_accepted(self, batch: BatchRef, seen_at: str | None = None) -> Acceptance:
        """Add the batch to the accepted data (the training set of the next job); idempotent. A version
        of the same name seen earlier (`seen_at`: when its validation began; default now) leaves it."""
        return self.repos.accepted.add(batch, seen_at or iso(self.clock()))

    def request_training(self, batch: BatchRef | None, reason: str, requested_by: list[str] | tuple = ()) -> None:
        """Ask for a job on all accepted data once the quiet period has passed (restarted by each
        request); idempotent per batch. `batch` None: a request without new data (drift, schedule).
        `requested_by`: who asked (a person's names or ids, an uploader): the job and its candidate
        record them, and they may not approve that candidate."""
        now = self.clock()
        if batch is not None and not self.add_accepted(batch).joined:
            return  # superseded by a newer version of its file, or withdrawn

        def add_to_pending(doc: dict | None) -> dict | None:
            doc = doc if doc and doc.get("open") else _new_request(now)
            if batch is not None and batch.to_dict() in doc["batches"]:
                return None
            if batch is not None:
                doc["batches"].append(batch.to_dict())
            if reason not in doc["reasons"]:
                doc["reasons"].append(reason)
            asked = doc.setdefault("requested_by", [])
            asked.extend(r for r in requested_by if r and r not in asked)
            doc["due_at"] = iso(now + timedelta(seconds=self.config.quiet_period_seconds))
            return doc

        self.repos.training_requests.change(add_to_pending)

    def pending_request(self) -> dict | None:
        return self.repos.training_requests.open()

    def submit_due_training(self) -> TrainingJob | None:
        """Submit one job on all accepted data once the quiet period has passed (timer-driven)."""
        request = self.pending_request()
        if not request or parse_iso(request["due_at"]) > self.clock():
            return None
        inputs = self.accepted_data()
        job = self._create_job_record(request["job_name"], inputs, "; ".join(request["reasons"]),
                                      request.get("requested_by", []))
        # The job record is the truth: after a crash it may hold an earlier training set.
        trained_on = [BatchRef.from_dict(b) for b in job.batches]
        self._submit(job, trained_on)
        self._close_request(request["request_id"], trained_on)
        return job

    def accepted_data(self) -> list[BatchRef]:
        """Every accepted data file, in the order it was accepted (one document read)."""
        return self.repos.accepted.all()

    def current_training_set(self) -> TrainingSet:
        """The training set the next job would read (e.g. for a job submitted outside the service,
        on new training code); NotFound while no data is accepted."""
        batches = self.accepted_data()
        if not batches:
            raise NotFound("no accepted data yet: the training set is empty (upload a data file first)")
        return TrainingSet(self.config.model_name, tuple(batches), training_set_id(batches), dict(self.config.parameters))

    def record_job_status(self, job_name: str, reported: JobStatus | None = None) -> TrainingJob:
        """Bring the job record up to date with the platform; terminal states never regress."""
        self.jobs.get(job_name)  # NotFound for a job this service did not submit
        status = reported or self.platform.get_job(job_name)
        if status.status not in STATUSES:
            status = JobStatus(job_name, RUNNING)
        job, changed = self.jobs.change(job_name, lambda job: job.apply_status(status, self.clock()))
        if changed and job.status == FAILED:
            self._notify_failed(job)
        return job

    def record_model_version(self, job_name: str, version: str, run_id: str | None) -> None:
        """Link a registered model version to the job that produced it (any event order)."""
        self.jobs.change(job_name, lambda job: job.link_model_version(version, run_id))

    def list_jobs(self, limit: int = 100, continuation: str | None = None) -> Page[TrainingJob]:
        """Jobs newest first, the unfinished ones refreshed from the platform."""
        page = self.jobs.newest(limit, continuation)
        return Page([job if job.finished else self._refresh(job) for job in page.items], page.continuation)

    def get_job(self, job_name: str) -> TrainingJob:
        job = self.jobs.get(job_name)
        return job if job.finished else self._refresh(job)

    def _refresh(self, job: TrainingJob) -> TrainingJob:
        try:
            return self.record_job_status(job.name)
        except Exception:  # a status page must not fail because the platform is slow
            log.warning("could not refresh job %s", job.name, exc_info=True)
            return job

    def _create_job_record(self, job_name: str, inputs: list[BatchRef], reason: str,
                           requested_by: list[str]) -> TrainingJob:
        return self.jobs.add(TrainingJob(
            name=job_name,
            model_name=self.config.model_name,
            status=QUEUED,
            batches=[b.to_dict() for b in inputs],
            training_set_id=training_set_id(inputs),
            submitted_at=iso(self.clock()),
            reason=reason,
            requested_by=list(requested_by),
        ))

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

        self.jobs.change(job.name, lambda job: job.mark_running())

    def _close_request(self, request_id: str, included: list[BatchRef]) -> None:
        included_ids = {b.id for b in included}
        current = {b.id for b in self.accepted_data()}
        now = self.clock()

        def close(doc: dict | None) -> dict | None:
            if not doc or doc.get("request_id") != request_id:
                return None
            # Versions superseded or withdrawn since their request are in no training set: they ask for nothing.
            remaining = [b for b in doc["batches"]
                         if BatchRef.from_dict(b).id not in included_ids and BatchRef.from_dict(b).id in current]
            if not remaining:
                return {**doc, "open": False, "closed_at": iso(now)}
            # Data accepted while we were submitting: it starts the next request.
            fresh = _new_request(now)
            fresh.update(batches=remaining, due_at=doc["due_at"], reasons=["data accepted during submission"],
                         requested_by=list(doc.get("requested_by", [])))
            return fresh

        self.repos.training_requests.change(close)

    def _notify_failed(self, job: TrainingJob) -> None:
        self.notifier.notify(
            Notification(
                kind="job.failed",
                title=f"Training job failed: {job.name}",
                text=job.error or "the training job failed",
                facts={"job": job.name, "model": job.model_name, "data files": len(job.batches), "log tail": job.log_tail[-1500:]},
            )
        )


def _new_request(now) -> dict:
    request_id = uuid.uuid4().hex
    return {
        "request_id": request_id,
        "job_name": f"train-{now:%Y%m%d-%H%M%S}-{request_id[:6]}",
        "requested_at": iso(now),
        "open": True,
        "batches": [],
        "reasons": [],
        "requested_by": [],
        "due_at": iso(now),
    }
