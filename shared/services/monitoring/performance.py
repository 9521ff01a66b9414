"""Concept drift: the champion's figures on each new labelled file, before it is trained on."""
from __future__ import annotations

from dataclasses import dataclass

from shared.domain.batches import DataBatch
from shared.domain.clock import iso
from shared.domain.model_contract import METRIC_TAG_PREFIX
from shared.ports import FileStore, MLPlatform
from shared.services.monitoring.retraining import RetrainingPolicy
from shared.services.repositories import Repositories


@dataclass(frozen=True)
class PerformanceConfig:
    model_name: str
    metric: str
    drop_threshold: float


class PerformanceTracking:
    def __init__(self, repos: Repositories, files: FileStore, platform: MLPlatform, retraining: RetrainingPolicy,
                 config: PerformanceConfig, clock):
        self.repos = repos
        self.files = files
        self.platform = platform
        self.retraining = retraining
        self.config = config
        self.clock = clock

    def track_performance(self, batch: DataBatch) -> dict | None:
        """Score a newly accepted (labelled) batch with the champion before it is trained on; once per file version."""
        champion = self.repos.production.get().champion_version
        if not champion:
            return None
        known = self.repos.performance.find(batch.name, batch.etag)
        if known:
            return known
        metrics = self.platform.score_data(self.config.model_name, champion,
                                           self.files.read_chunks(batch.container, batch.name, batch.etag))
        reference = self._reference_metrics(champion)
        metric = self.config.metric
        drop = (reference.get(metric, metrics[metric]) - metrics[metric]) if metric in metrics else 0.0
        record = {"at": iso(self.clock()), "file": batch.name, "file_decided_at": batch.decided_at,
                  "champion_version": champion, "metrics": metrics,
                  "reference": reference, "metric": metric, "drop": round(drop, 4),
                  "dropped": drop > self.config.drop_threshold}
        if record["dropped"]:
            reason = (f"performance drop: {metric} {metrics[metric]:.3f} on {batch.name} vs "
                      f"{reference[metric]:.3f} at training (v{champion})")
            record["retraining"] = self.retraining.request("performance", reason)
        return self.repos.performance.add(batch.name, batch.etag, record)

    def history(self, limit: int = 50) -> list[dict]:
        """The newest performance records first."""
        return self.repos.performance.newest(limit).items

    def _reference_metrics(self, version: str) -> dict:
        """The champion's gate figures on its held-out rows, else the metrics its training run tagged."""
        candidate = self.repos.candidates.find(version)
        gate = (candidate.gate or {}).get("candidate") if candidate else None
        if gate:
            return gate
        tags = self.platform.get_model_version(self.config.model_name, version).tags
        return {k.removeprefix(METRIC_TAG_PREFIX): float(v) for k, v in tags.items() if k.startswith(METRIC_TAG_PREFIX)}
