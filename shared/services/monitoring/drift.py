"""Drift checks: the data accepted since the champion was trained (and captured live inputs)
against the champion's training baseline; a JSON record and an HTML report per check."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from shared.domain.batches import BatchRef
from shared.domain.clock import iso
from shared.domain.drift import DriftPolicy, WindowAccumulator, baseline_from_profile, check_drift, render_html
from shared.domain.errors import NotFound
from shared.domain.model_contract import JOB_NAME_TAG
from shared.ports import FileStore, MLPlatform, Notification, Notifier, OnlineEndpoints, WindowReader
from shared.services.monitoring.performance import PerformanceTracking
from shared.services.monitoring.retraining import RetrainingPolicy
from shared.services.repositories import Repositories
from shared.services.urls import PublicUrls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftConfig:
    model_name: str
    policy: DriftPolicy
    reports_container: str
    endpoint_name: str


class DriftMonitoring:
    """Cheap checks that can run often: nothing here re-reads the training data."""

    def __init__(self, repos: Repositories, files: FileStore, platform: MLPlatform, reader: WindowReader,
                 endpoints: OnlineEndpoints, notifier: Notifier, retraining: RetrainingPolicy,
                 performance: PerformanceTracking, config: DriftConfig, urls: PublicUrls, clock):
        self.repos = repos
        self.files = files
        self.platform = platform
        self.reader = reader
        self.endpoints = endpoints
        self.notifier = notifier
        self.retraining = retraining
        self.performance = performance
        self.config = config
        self.urls = urls
        self.clock = clock

    def check_drift(self, trigger: str = "timer") -> dict:
        """Compare the data accepted since the champion was trained with the champion's baseline."""
        now = self.clock()
        check_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        production = self.repos.production.get()
        champion = production.champion_version
        record = {"id": check_id, "at": iso(now), "trigger": trigger, "champion_version": champion}
        if not champion:
            record.update(verdict="no_champion", detail="no model serves production yet: nothing to compare with")
            return self.repos.drift_checks.add(record)
        baseline = baseline_from_profile(self.platform.get_baseline_profile(self.config.model_name, champion))
        window = self._window_batches(champion)
        accumulator = WindowAccumulator(baseline)
        for batch in window:
            chunks = self.files.read_chunks(batch.container, batch.name, batch.etag)
            for columns in self.reader.columns(chunks, _format(batch.name), baseline.names):
                accumulator.add(columns)
        from_files = accumulator.rows
        if production.champion_deployment:
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
                    "url": self.urls.drift_report(check_id)},
            performance=self.performance.history(limit=5),
        )
        title = f"Drift check {check_id}: {result.verdict} ({self.config.model_name} v{champion})"
        self.files.write(self.config.reports_container, report_name,
                         render_html(result, title, {"JSON": self.urls.drift()}).encode(),
                         content_type="text/html; charset=utf-8")
        if result.verdict == "drift":
            reason = f"data drift in {', '.join(result.drifted_features)} ({result.rows} rows since v{champion})"
            record["retraining"] = self.retraining.request("drift", reason)
        self.repos.drift_checks.add(record)
        if result.verdict in ("drift", "data_quality"):
            self.notifier.notify(Notification(
                kind=f"drift.{result.verdict}", title=title,
                text=" ".join([result.reason, *result.problems]),
                facts={"rows": result.rows, "files": len(window), "retraining": record.get("retraining", {}).get("detail", "-")},
                links={"Report": record["report"]["url"]},
            ))
        return record

    def latest(self, history: int = 20, continuation: str | None = None) -> dict:
        """The newest check in full, a page of check summaries, and the performance history."""
        page = self.repos.drift_checks.newest(history, continuation)
        summaries = [{k: c.get(k) for k in ("id", "at", "trigger", "verdict", "rows", "drifted_features",
                                             "champion_version", "retraining")} for c in page.items]
        latest = page.items[0] if page.items and continuation is None else None
        return {"latest": latest, "history": summaries, "continuation": page.continuation,
                "performance": self.performance.history(limit=history)}

    def report(self, check_id: str) -> bytes:
        record = self.repos.drift_checks.find(check_id)
        if not record or "report" not in record:
            raise NotFound(f"drift report {check_id!r} does not exist")
        report = record["report"]
        info = self.files.info(report["container"], report["name"])
        return b"".join(self.files.read_chunks(report["container"], report["name"], info.etag))

    def _window_batches(self, champion: str) -> list[BatchRef]:
        """Accepted files the champion did not train on, oldest first."""
        trained_on = self._training_set(champion)
        return [b for b in self.repos.accepted.all() if (b.name, b.etag) not in trained_on]

    def _training_set(self, version: str) -> set[tuple[str, str]]:
        """The files the version's training job trained on (its registration tags name the job)."""
        event = self.repos.model_events.find(version)
        job_name = (event.get("tags") or {}).get(JOB_NAME_TAG) if event else None
        job = self.repos.jobs.find(job_name) if job_name else None
        return {(b["name"], b["etag"]) for b in job.batches} if job else set()


def _format(name: str) -> str:
    return "parquet" if name.lower().endswith((".parquet", ".pq")) else "csv"
