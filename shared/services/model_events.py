"""Model-registered events in: verified, normalised, recorded once per model version."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from shared.domain.clock import iso, utc_now
from shared.domain.event_parsing import parse_json_object, parse_mlflow_webhook
from shared.domain.models import ModelRegistered, model_version_key
from shared.domain.signatures import verify_mlflow_signature
from shared.ports import DocumentExists, DocumentStore
from shared.services.training import TrainingService

log = logging.getLogger(__name__)

RECORDED, DUPLICATE, IGNORED = "recorded", "duplicate", "ignored"


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

    def __init__(self, documents: DocumentStore, training: TrainingService, model_name: str, webhook_secret: str, max_age_seconds: int):
        self.documents = documents
        self.training = training
        self.model_name = model_name
        self._webhook_secret = webhook_secret
        self.max_age_seconds = max_age_seconds

    def receive_mlflow_webhook(self, headers: dict[str, str], body: bytes) -> EventOutcome:
        """Verify an MLflow registry webhook delivery (401 if not genuine) and record it."""
        delivery_id = verify_mlflow_signature(self._webhook_secret, headers, body, time.time(), self.max_age_seconds)
        payload = parse_json_object(body, "MLflow webhook")
        event = parse_mlflow_webhook(payload, delivery_id)
        if event is None:
            log.info("MLflow webhook %s.%s acknowledged and ignored", payload.get("entity"), payload.get("action"))
            return EventOutcome(IGNORED, f"event {payload.get('entity')}.{payload.get('action')} is not acted on")
        return self.record_registered(event)

    def record_registered(self, event: ModelRegistered) -> EventOutcome:
        if event.model_name != self.model_name:
            log.info("model %s v%s registered; ignored (this service handles %s)", event.model_name, event.version, self.model_name)
            return EventOutcome(IGNORED, f"model {event.model_name!r} is not {self.model_name!r}", event.model_name, event.version)
        record = {**event.to_dict(), "received_at": iso(utc_now())}
        try:
            self.documents.create(model_version_key(event.model_name, event.version), record)
        except DocumentExists:
            return EventOutcome(DUPLICATE, "already recorded", event.model_name, event.version)
        job_name = event.tags.get("job_name")
        if job_name and self.documents.get(f"jobs/{job_name}"):
            self.training.record_model_version(job_name, event.version, event.run_id)
        log.info("model %s v%s registered (via %s)", event.model_name, event.version, event.source)
        return EventOutcome(RECORDED, "model version recorded", event.model_name, event.version)

    def list_registered(self) -> list[dict]:
        return [v.doc for v in self.documents.list(f"models/{self.model_name}/")]
