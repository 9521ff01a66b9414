"""Monitoring: drift checks against the champion's training baseline, performance of the champion
on each new labelled batch, and the retraining policy (cooldown, daily cap) both feed."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.batches import BatchRef, DataBatch
from shared.domain.candidates import candidate_key
from shared.domain.clock import iso, utc_now
from shared.domain.drift import DriftPolicy, WindowAccumulator, baseline_from_profile, check_drift
from shared.domain.drift import render_html
from shared.domain.errors import NotFound
from shared.domain.models import model_version_key
from shared.ports import (
    DocumentExists, DocumentStore, FileStore, MLPlatform, Notification, Notifier, OnlineEndpoints, WindowReader,
)
from shared.domain.training import job_key
from shared.services.delivery import Records
from shared.services.documents import update_document
from shared.services.training import TrainingService

log = logging.getLogger(__name__)

TRIGGERS = ("new_data", "drift", "performance", "schedule")
RETRAINING_KEY = "monitoring/retraining"


@dataclass(frozen=True)
class MonitoringConfig:
    model_name: str
    policy: DriftPolicy
    triggers: frozenset
    cooldown_hours: float
    daily_cap: int
    performance_metric: str
    performance_drop: float
    reports_container: str
    public_base_url: str
    endpoint_name: str = ""


class Monitoring:
    """Cheap checks that can run often: nothing here re-reads the training data."""

    def __init__(self, documents: DocumentStore, files: FileStore, platform: MLPlatform, reader: WindowReader,
                 training: TrainingService, notifier: Notifier, config: MonitoringConfig, clock=utc_now,
                 endpoints: OnlineEndpoints | None = None):
        self.endpoints = endpoints
        self.records = Records(documents, config.model_name, clock)
        self.documents = documents
        self.files = files
        self.platform = platform
        self.reader = reader
        self.training = training
        self.notifier = notifier
        self.config = config
        self.clock = clock

    # --- drift -----------------------------------------------------------------------

    def check_drift(self, trigger: str = "timer") -> dict:
        """Compare the data accepted since the champion was trained with the champion's baseline."""
        now = self.clock()
        check_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        production = self.records.production()
        champion = production.champion_version
        record = {"id": check_id, "at": iso(now), "trigger": trigger, "champion_version": champion}
        if not champion:
            record.update(verdict="no_champion", detail="no model serves production yet: nothing to compare with")
            return self._store_check(record)
        baseline = baseline_from_profile(self.platform.get_baseline_profile(self.config.model_name, champion))
        window = self._window_batches(champion)
        accumulator = WindowAccumulator(baseline)
        for batch in window:
            chunks = self.files.read_chunks(batch.container, batch.name, batch.etag)
            for columns in self.reader.columns(chunks, _format(batch.name), baseline.names):
                accumulator.add(columns)
        from_files = accumulator.rows
        if self.endpoints and production.champion_deployment:
            captured = self.endpoints.captured_inputs(self.config.endpoint_name, production.champion_deployment)
            for columns in self.reader.columns(captured, "csv", baseline.names):
                accumulator.add(columns)
        result = check_drift(baseline, accumulator, self.config.policy)
        report_name = f"drift/{check_id}.html"
        record.update(
            verdict=result.verdict, rows=result.rows, files=[b.name for b in window],
            captured_rows=result.rows - from_files,
            drifted_features=list(result.drifted_features), drifted_share=result.drifted_share,
            problems=list(result.problems), result=result.to_dict(),
            report={"container": self.config.reports_container, "name": report_name,
                    "url": f"{self.config.public_base_url}/api/drift/reports/{check_id}"},
            performance=self.performance_history(limit=5),
        )
        title = f"Drift check {check_id}: {result.verdict} ({self.config.model_name} v{champion})"
        self.files.write(self.config.reports_container, report_name,
                         render_html(result, title, {"JSON": f"{self.config.public_base_url}/api/drift"}).encode(),
                         content_type="text/html; charset=utf-8")
        if result.verdict == "drift":
            reason = f"data drift in {', '.join(result.drifted_features)} ({result.rows} rows since v{champion})"
            record["retraining"] = self._retrain_if_allowed("drift", reason)
        self._store_check(record)
        if result.verdict in ("drift", "data_quality"):
            self.notifier.notify(Notification(
                kind=f"drift.{result.verdict}", title=title,
                text=" ".join([result.reason, *result.problems]),
                facts={"rows": result.rows, "files": len(window), "retraining": record.get("retraining", {}).get("detail", "-")},
                links={"Report": record["report"]["url"]},
            ))
        return record

    def latest(self, history: int = 20) -> dict:
        checks = [v.doc for v in self.documents.list("monitoring/drift/")][::-1]
        summaries = [{k: c.get(k) for k in ("id", "at", "trigger", "verdict", "rows", "drifted_features",
                                             "champion_version", "retraining")} for c in checks[:history]]
        return {"latest": checks[0] if checks else None, "history": summaries,
                "performance": self.performance_history(limit=history)}

    def report(self, check_id: str) -> bytes:
        stored = self.documents.get(f"monitoring/drift/{check_id}")
        if not stored or "report" not in stored.doc:
            raise NotFound(f"drift report {check_id!r} does not exist")
        report = stored.doc["report"]
        info = self.files.info(report["container"], report["name"])
        return b"".join(self.files.read_chunks(report["container"], report["name"], info.etag))

    def _window_batches(self, champion: str) -> list[BatchRef]:
        """Accepted files the champion did not train on, oldest first."""
        trained_on = self._training_set(champion)
        return [b for b in self.training.accepted_data() if (b.name, b.etag) not in trained_on]

    def _training_set(self, version: str) -> set[tuple[str, str]]:
        event = self.documents.get(model_version_key(self.config.model_name, version))
        job_name = (event.doc.get("tags") or {}).get("job_name") if event else None
        job = self.documents.get(job_key(job_name)) if job_name else None
        return {(b["name"], b["etag"]) for b in job.doc["batches"]} if job else set()

    def _store_check(self, record: dict) -> dict:
        self.documents.create(f"monitoring/drift/{record['id']}", record)
        return record

    # --- performance (concept drift) ---------------------------------------------------

    def track_performance(self, batch: DataBatch) -> dict | None:
        """Score a newly accepted (labelled) batch with the champion before it is trained on."""
        champion = self.records.production().champion_version
        if not champion:
            return None
        key = f"monitoring/performance/{batch.decided_at}-{batch.key.replace('/', '_')}"
        if self.documents.get(key):
            return self.documents.get(key).doc
        metrics = self.platform.score_data(self.config.model_name, champion,
                                           self.files.read_chunks(batch.container, batch.name, batch.etag))
        reference = self._reference_metrics(champion)
        metric = self.config.performance_metric
        drop = (reference.get(metric, metrics[metric]) - metrics[metric]) if metric in metrics else 0.0
        record = {"at": iso(self.clock()), "file": batch.name, "champion_version": champion, "metrics": metrics,
                  "reference": reference, "metric": metric, "drop": round(drop, 4),
                  "dropped": drop > self.config.performance_drop}
        if record["dropped"]:
            reason = (f"performance drop: {metric} {metrics[metric]:.3f} on {batch.name} vs "
                      f"{reference[metric]:.3f} at training (v{champion})")
            record["retraining"] = self._retrain_if_allowed("performance", reason)
        try:
            self.documents.create(key, record)
        except DocumentExists:
            pass
        return record

    def performance_history(self, limit: int = 50) -> list[dict]:
        return [v.doc for v in self.documents.list("monitoring/performance/")][::-1][:limit]

    def _reference_metrics(self, version: str) -> dict:
        candidate = self.documents.get(candidate_key(self.config.model_name, version))
        gate = (candidate.doc.get("gate") or {}).get("candidate") if candidate else None
        if gate:
            return gate
        tags = self.platform.get_model_version(self.config.model_name, version).tags
        return {k.removeprefix("metric."): float(v) for k, v in tags.items() if k.startswith("metric.")}

    # --- retraining policy ---------------------------------------------------------------

    def scheduled_retraining(self) -> dict:
        if "schedule" not in self.config.triggers:
            return {"retrain": False, "detail": "schedule is not among RETRAIN_TRIGGERS"}
        self.training.request_training(None, "scheduled retraining")
        return {"retrain": True, "detail": "scheduled retraining requested"}

    def _retrain_if_allowed(self, trigger: str, reason: str) -> dict:
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

        update_document(self.documents, RETRAINING_KEY, record)
        if decision["retrain"]:
            self.training.request_training(None, reason)
            log.info("retraining requested: %s", reason)
        else:
            log.info("retraining not requested (%s): %s", decision["detail"], reason)
        return decision


def _format(name: str) -> str:
    return "parquet" if name.lower().endswith((".parquet", ".pq")) else "csv"
