"""The retraining policy: which triggers may ask for a job, with a cooldown and a daily cap."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.clock import iso
from shared.services.repositories import Repositories
from shared.services.training import TrainingService

log = logging.getLogger(__name__)

TRIGGERS = ("new_data", "drift", "performance", "estimated", "schedule")


@dataclass(frozen=True)
class RetrainingConfig:
    triggers: frozenset
    cooldown_hours: float
    daily_cap: int


class RetrainingPolicy:
    """Drift and performance ask here; a schedule asks by itself; new data asks in ingestion."""

    def __init__(self, repos: Repositories, training: TrainingService, config: RetrainingConfig, clock):
        self.log = repos.retraining
        self.training = training
        self.config = config
        self.clock = clock

    def scheduled(self) -> dict:
        if "schedule" not in self.config.triggers:
            return {"retrain": False, "detail": "schedule is not among RETRAIN_TRIGGERS"}
        self.training.request_training(None, "scheduled retraining")
        return {"retrain": True, "detail": "scheduled retraining requested"}

    def request(self, trigger: str, reason: str) -> dict:
        """Ask for retraining unless the trigger is off, a cooldown runs, or today's cap is reached."""
        if trigger not in self.config.triggers:
            return {"retrain": False, "detail": f"{trigger} is not among RETRAIN_TRIGGERS"}
        now = self.clock()
        decision: dict = {}

        def record(doc: dict | None) -> dict | None:
            doc = doc or {"requests": []}
            times = [datetime.fromisoformat(r["at"]) for r in doc["requests"]]
            if times and now - max(times) < timedelta(hours=self.config.cooldown_hours):
                decision.update(retrain=False, detail=f"cooldown: last retraining requested at {iso(max(times))}")
                return None
            if sum(1 for t in times if now - t < timedelta(days=1)) >= self.config.daily_cap:
                decision.update(retrain=False, detail=f"daily cap of {self.config.daily_cap} retrainings reached")
                return None
            decision.update(retrain=True, detail=reason)
            doc["requests"] = doc["requests"][-100:] + [{"at": iso(now), "trigger": trigger, "reason": reason}]
            return doc

        self.log.change(record)
        if decision["retrain"]:
            self.training.request_training(None, reason)
            log.info("retraining requested: %s", reason)
        else:
            log.info("retraining not requested (%s): %s", decision["detail"], reason)
        return decision
