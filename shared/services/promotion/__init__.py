"""The promotion path: registered version → gate → staging → smoke test → approval → production."""
from shared.services.promotion.context import DeliveryConfig, PromotionContext
from shared.services.promotion.decisions import ApprovalService
from shared.services.promotion.pipeline import CandidatePipeline
from shared.services.promotion.rollback import RollbackService
from shared.services.promotion.sweeper import SweepReport, Sweeper

__all__ = ["ApprovalService", "CandidatePipeline", "DeliveryConfig", "PromotionContext", "RollbackService",
           "SweepReport", "Sweeper"]
