"""Repositories: one per aggregate, the only code that knows a storage key or prefix.

Services ask `repos.approvals.open()` or `repos.candidates.get(version)`, never a key.
Listings are name-only and newest first (`paging.py`), so their cost does not grow with history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from shared.ports import DocumentStore
from shared.services.repositories.approvals import ApprovalRepository
from shared.services.repositories.batches import AcceptedData, BatchRepository
from shared.services.repositories.candidates import CandidateRepository, ProductionRepository
from shared.services.repositories.capture_profiles import CaptureProfileRepository
from shared.services.repositories.evidence import EvidenceRepository
from shared.services.repositories.jobs import JobRepository, TrainingRequests
from shared.services.repositories.merged_profiles import MergedProfileRepository
from shared.services.repositories.models import MalformedEvents, ModelEventRepository
from shared.services.repositories.monitoring import DriftCheckRepository, PerformanceRepository, RetrainingLog
from shared.services.repositories.paging import Page
from shared.services.repositories.poisoned import PoisonedMessages
from shared.services.repositories.profiles import WindowProfileRepository
from shared.services.repositories.rejected_models import RejectedModelEvents


@dataclass(frozen=True)
class Repositories:
    batches: BatchRepository
    accepted: AcceptedData
    jobs: JobRepository
    training_requests: TrainingRequests
    model_events: ModelEventRepository
    malformed_events: MalformedEvents
    rejected_models: RejectedModelEvents
    candidates: CandidateRepository
    production: ProductionRepository
    approvals: ApprovalRepository
    drift_checks: DriftCheckRepository
    performance: PerformanceRepository
    retraining: RetrainingLog
    profiles: WindowProfileRepository
    capture_profiles: CaptureProfileRepository
    merged_profiles: MergedProfileRepository
    evidence: EvidenceRepository
    poisoned: PoisonedMessages

    @classmethod
    def on(cls, store: DocumentStore, model_name: str, clock: Callable[[], datetime]) -> "Repositories":
        return cls(
            batches=BatchRepository(store), accepted=AcceptedData(store), jobs=JobRepository(store),
            training_requests=TrainingRequests(store), model_events=ModelEventRepository(store, model_name),
            malformed_events=MalformedEvents(store), rejected_models=RejectedModelEvents(store, model_name),
            candidates=CandidateRepository(store, model_name),
            production=ProductionRepository(store, model_name, clock), approvals=ApprovalRepository(store),
            drift_checks=DriftCheckRepository(store), performance=PerformanceRepository(store),
            retraining=RetrainingLog(store), profiles=WindowProfileRepository(store),
            capture_profiles=CaptureProfileRepository(store), merged_profiles=MergedProfileRepository(store),
            evidence=EvidenceRepository(store, model_name),
            poisoned=PoisonedMessages(store),
        )


__all__ = ["Page", "Repositories"]
