"""Concept drift: the champion's figures on each new labelled file, before it is trained on, and its
performance on unlabelled live traffic estimated from its own probabilities (CBPE)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.domain.batches import DataBatch
from shared.domain.clock import iso
from shared.domain.evaluation import classification_metrics, estimate_performance
from shared.domain.model_contract import METRIC_TAG_PREFIX
from shared.ports import CapturedInputs, FileStore, MLPlatform, RowsSource
from shared.services.monitoring.captures import captured_csv
from shared.services.monitoring.retraining import RetrainingPolicy
from shared.services.repositories import Repositories


@dataclass(frozen=True)
class PerformanceConfig:
    model_name: str
    metric: str
    drop_threshold: float
    endpoint_name: str = ""
    max_ece: float = 0.05  # CBPE counts only for a champion this well calibrated on its held-out split
    min_rows: int = 200  # fewer captured rows: no estimate


class PerformanceTracking:
    def __init__(self, repos: Repositories, files: FileStore, platform: MLPlatform, retraining: RetrainingPolicy,
                 config: PerformanceConfig, clock, captures: CapturedInputs | None = None):
        self.repos = repos
        self.files = files
        self.platform = platform
        self.retraining = retraining
        self.config = config
        self.clock = clock
        self.captures = captures

    def track_performance(self, batch: DataBatch) -> dict | None:
        """Score a newly accepted (labelled) batch with the champion before it is trained on; once per file version."""
        champion = self.repos.production.get().champion_version
        if not champion:
            return None
        known = self.repos.performance.find(batch.name, batch.etag)
        if known:
            return known
        metrics = self.platform.score_data(self.config.model_name, champion,
                                           self.files.read_chunks(*batch.ref.stored_at))
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

    def estimate_from_traffic(self) -> dict | None:
        """The champion's accuracy and AUC on captured live traffic (no labels), estimated from its own
        probabilities (CBPE); valid only when it is calibrated on its held-out split. Recorded in the history;
        a valid estimate that drops beyond the threshold asks for retraining (trigger `estimated`). The
        traffic is every capture segment of the champion's deployment (it served nothing else)."""
        production = self.repos.production.get()
        champion, deployment = production.champion_version, production.champion_deployment
        if not champion or not deployment or self.captures is None:
            return None
        captured = captured_csv(self.captures, self.config.endpoint_name, deployment)
        rows = self.platform.predict_proba(self.config.model_name, [champion], RowsSource(
            heldout_of=champion, files=(("captured live traffic", captured),)))
        probabilities = rows.probabilities[champion]
        heldout = [i for i, label in enumerate(rows.labels) if label is not None]
        traffic = [probabilities[i] for i, label in enumerate(rows.labels) if label is None]
        if len(traffic) < self.config.min_rows:
            return None
        labels, scores = [rows.labels[i] for i in heldout], [probabilities[i] for i in heldout]
        actual = classification_metrics(labels, scores)
        calibration = {"ece": actual.get("ece"), "brier": actual.get("brier"), "max_ece": self.config.max_ece,
                       "heldout_rows": len(heldout), "heldout_actual": _pick(actual),
                       "heldout_estimated": _pick(estimate_performance(scores))}
        calibration["calibrated"] = calibration["ece"] is not None and calibration["ece"] <= self.config.max_ece
        estimated = estimate_performance(traffic)
        metric = self.config.metric if self.config.metric in ("auc", "accuracy") else "auc"
        drop = round(actual[metric] - estimated[metric], 4) if estimated.get(metric) is not None else 0.0
        now = self.clock()
        record = {"id": f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", "at": iso(now), "kind": "estimated",
                  "file": None, "champion_version": champion, "rows": len(traffic), "metrics": _pick(estimated),
                  "reference": _pick(actual), "metric": metric, "drop": drop, "calibration": calibration,
                  "valid": calibration["calibrated"],
                  "dropped": calibration["calibrated"] and drop > self.config.drop_threshold}
        if not record["valid"]:
            record["note"] = (f"not valid: ECE {calibration['ece']} on the held-out split is above {self.config.max_ece}; "
                              "CBPE assumes calibrated probabilities")
        if record["dropped"]:
            reason = (f"estimated performance drop: {metric} about {estimated[metric]:.3f} on {len(traffic)} live "
                      f"rows vs {actual[metric]:.3f} held out (v{champion}, CBPE)")
            record["retraining"] = self.retraining.request("estimated", reason)
        return self.repos.performance.add_estimate(record)

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


def _pick(figures: dict) -> dict:
    return {name: figures[name] for name in ("accuracy", "auc") if figures.get(name) is not None}
