"""The promotion path: registered version → gate → staging → smoke test → approval → production,
as queued, resumable steps (steps.py runs them; candidate_steps.py, decision_steps.py, rollback.py
are the steps)."""
from shared.services.promotion.candidate_steps import CandidateTrack
from shared.services.promotion.context import DeliveryConfig, PromotionContext
from shared.services.promotion.decision_steps import DecisionTrack
from shared.services.promotion.decisions import ApprovalService
from shared.services.promotion.health import ProductionHealth
from shared.services.promotion.pipeline import CandidatePipeline
from shared.services.promotion.rollback import RollbackService, RollbackTrack
from shared.services.promotion.steps import StepRunner
from shared.services.promotion.sweeper import SweepReport, Sweeper

__all__ = ["ApprovalService", "CandidatePipeline", "CandidateTrack", "DecisionTrack", "DeliveryConfig",
           "ProductionHealth", "PromotionContext", "RollbackService", "RollbackTrack", "StepRunner", "SweepReport",
           "Sweeper"]
