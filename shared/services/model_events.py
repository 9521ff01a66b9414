"""Model-registered events in: verified, normalised, recorded once per model version."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from shared.domain.clock import iso
from shared.domain.errors import InvalidInput
from shared.domain.event_parsing import parse_mlflow_webhook, parse_model_registered_event
from shared.domain.json_bodies import WEBHOOK_BODY, bounded, check_size, parse_json_object
from shared.domain.model_contract import JOB_NAME_TAG
from shared.domain.models import ModelRegistered
from shared.domain.signatures import verify_mlflow_signature
from shared.ports import MLPlatform
from shared.services.promotion import CandidatePipeline
from shared.services.registry_truth import ReconcileReport, RegistryTruth, version_problem
from shared.services.repositories import Page, Repositories
from shared.services.training import TrainingService

log = logging.getLogger(__name__)

RECORDED, DUPLICATE, IGNORED, MALFORMED = "recorded", "duplicate", "ignored", "malformed"
REJECTED = "rejected"  # the registry did not confirm the version: recorded with the reason
RECONCILE_BATCH = 50  # versions one reconciliation acts on; the rest wait for the next run
MALFORMED_KEPT_PER_MINUTE = 50


@dataclass(frozen=True)
class EventOutcome:
    outcome: str
    detail: str
    model_name: str | None = None
    version: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class ModelEvents:
    """Records each registered version of the configured model once, whatever the delivery path."""

    def __init__(self, repos: Repositories, training: TrainingService, pipeline: CandidatePipeline, model_name: str,
                 webhook_secret: str, max_age_seconds: int, clock, platform: MLPlatform):
        self.repos = repos
        self.registry = RegistryTruth(repos, platform, model_name)  # the truth every event is checked against
        self.training = training
        self.pipeline = pipeline  # takes each recorded version on towards production
        self.clock = clock
        self.model_name = model_name
        self._webhook_secret = webhook_secret
        self.max_age_seconds = max_age_seconds
        self._full_minutes: set = set()  # minutes this process saw reach the cap: no more counting

    def receive_mlflow_webhook(self, headers: dict[str, str], body: bytes) -> EventOutcome:
        """Verify an MLflow registry webhook delivery (401 if not genuine) and record it."""
        check_size(body, "MLflow webhook", WEBHOOK_BODY)  # before hashing a body of any size
        delivery_id = verify_mlflow_signature(self._webhook_secret, headers, body, time.time(), self.max_age_seconds)
        payload = parse_json_object(body, "MLflow webhook", WEBHOOK_BODY)
        event = parse_mlflow_webhook(payload, delivery_id)
        if event is None:
            log.info("MLflow webhook %s.%s acknowledged and ignored", payload.get("entity"), payload.get("action"))
            return EventOutcome(IGNORED, f"event {payload.get('entity')}.{payload.get('action')} is not acted on")
        return self.record_registered(event)

    def receive_event_grid(self, event: dict) -> EventOutcome:
        """Azure ML's ModelRegistered from Event Grid. A malformed event is kept (never dropped
        silently) and acknowledged: redelivering it could not make it valid."""
        try:
            parsed = parse_model_registered_event(event)
        except InvalidInput as error:
            return self._malformed(event, error.message)
        if parsed is None:
            log.info("event %s of type %s acknowledged and ignored", event.get("id"), event.get("eventType"))
            return EventOutcome(IGNORED, f"event type {event.get('eventType')!r} is not acted on")
        return self.record_registered(parsed)

    def _malformed(self, event: object, reason: str) -> EventOutcome:
        """Keep the event whole while its minute is under the cap, else count its hash: a flood
        of distinct malformed events (one invocation each, so no cap per delivery can be seen
        from here) writes at most MALFORMED_KEPT_PER_MINUTE documents a minute plus one summary."""
        malformed, now = self.repos.malformed_events, self.clock()
        minute = now.replace(second=0, microsecond=0)
        content = bounded(event)
        if minute not in self._full_minutes and \
                malformed.kept_in_minute(now, MALFORMED_KEPT_PER_MINUTE) < MALFORMED_KEPT_PER_MINUTE:
            key = malformed.keep(content, reason, now)
            log.warning("malformed ModelRegistered event kept as %s: %s", key, reason)
        else:
            first = minute not in self._full_minutes
            self._full_minutes = {minute}  # only the current minute can still fill up
            key = malformed.note_dropped(content, reason, now)
            # One warning per minute: a flood must not become a flood of log lines as well.
            log.log(logging.WARNING if first else logging.DEBUG,
                    "malformed ModelRegistered events past this minute's cap: counted in %s (%s)", key, reason)
        return EventOutcome(MALFORMED, reason)

    def record_registered(self, event: ModelRegistered) -> EventOutcome:
        """Act on a registered version once the registry confirms it; otherwise keep the event as
        rejected, with the reason, and change nothing else (no ordering, no candidate)."""
        if event.model_name != self.model_name:
            log.info("model %s v%s registered; ignored (this service handles %s)", event.model_name, event.version[:40], self.model_name)
            return EventOutcome(IGNORED, f"model {event.model_name!r} is not {self.model_name!r}", event.model_name, event.version)
        received_at = self.clock()
        problem = version_problem(event.version)
        if problem:
            return self._reject(event, problem, received_at)
        if self.repos.model_events.find(event.version) is None:
            verdict = self.registry.confirm(event)
            if verdict.event is None:
                return self._reject(event, verdict.reason, received_at)
            event = verdict.event
        return self._start(event, received_at)

    def _start(self, event: ModelRegistered, received_at) -> EventOutcome:
        # The pipeline first, the record after: a recorded version has had its pipeline started
        # (a crash in between leaves no record, so the next delivery or reconciliation redoes it,
        # and the pipeline's own record makes a repeat a no-op).
        candidate = self.pipeline.handle_registered(event)
        outcome = RECORDED if self.repos.model_events.add(event, iso(received_at)) else DUPLICATE
        if outcome == RECORDED:
            self._link_job(event)
            log.info("model %s v%s registered (via %s)", event.model_name, event.version, event.source)
        return EventOutcome(outcome, f"candidate {candidate.status}", event.model_name, event.version)

    def _reject(self, event: ModelRegistered, reason: str, received_at) -> EventOutcome:
        if self.repos.rejected_models.add(event, reason, received_at):
            log.warning("model event %s v%s (via %s) rejected: %s", event.model_name, event.version[:40], event.source, reason)
        return EventOutcome(REJECTED, reason, event.model_name, event.version[:40])

    def reconcile(self) -> ReconcileReport:
        """Start the pipeline for every registered version of the model that no event brought
        (MLflow webhooks are fire-and-forget; Event Grid gives up after its retries), so a lost
        event costs at most one timer period. The same checks as an event, read from the listing."""
        listed, missing = self.registry.unrecorded()
        report = ReconcileReport(listed=listed, left_for_next_run=max(0, len(missing) - RECONCILE_BATCH))
        for info in missing[:RECONCILE_BATCH]:
            verdict = self.registry.judge(info, "reconciliation", f"reconcile-{info.version}")
            if verdict.event is None:
                self._reject(ModelRegistered(self.model_name, str(info.version), "reconciliation",
                                             f"reconcile-{info.version}"), verdict.reason, self.clock())
                report.rejected.append(str(info.version))
                continue
            outcome = self._start(verdict.event, self.clock())
            report.started.append(f"v{info.version}: {outcome.detail}")
        return report

    def list_rejected(self, limit: int = 100, continuation: str | None = None) -> Page[dict]:
        """Model events the registry did not confirm, with the reason, newest first."""
        return self.repos.rejected_models.newest(limit, continuation)

    def _link_job(self, event: ModelRegistered) -> None:
        job_name = event.tags.get(JOB_NAME_TAG)
        if job_name and self.repos.jobs.find(job_name):
            self.training.record_model_version(job_name, event.version, event.run_id)

    def list_registered(self, limit: int = 100, continuation: str | None = None) -> Page[dict]:
        """The recorded model versions, newest first."""
        return self.repos.model_events.newest(limit, continuation)
