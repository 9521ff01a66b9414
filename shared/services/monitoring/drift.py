"""Drift checks: three windows of data against the champion's training baseline (the newest file,
the recent window, everything since the champion was trained), merged from stored profiles of the
accepted files and of the champion deployment's capture segments (windows.py); a JSON record and
an HTML report per check. Retraining follows the recent window, once its
verdict has been "drift" in M of the last N checks (DRIFT_CONFIRMATIONS)."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from shared.domain.batches import BatchRef
from shared.domain.clock import iso
from shared.domain.contract import DIABETES_CONTRACT, DataContract
from shared.domain.drift import DriftPolicy, DriftResult, baseline_from_profile, check_drift, render_html
from shared.domain.drift.window_profile import project
from shared.domain.errors import NotFound
from shared.domain.model_contract import JOB_NAME_TAG
from shared.ports import CapturedInputs, FileStore, MLPlatform, Notification, Notifier, WindowReader
from shared.services.monitoring.performance import PerformanceTracking
from shared.services.monitoring.retraining import RetrainingPolicy
from shared.services.monitoring.windows import RECENT, Window, WindowProfiles, WindowRule
from shared.services.repositories import Repositories
from shared.services.urls import PublicUrls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftConfig:
    model_name: str
    policy: DriftPolicy
    reports_container: str
    endpoint_name: str
    windows: WindowRule = field(default_factory=WindowRule)
    confirmations: tuple[int, int] = (1, 1)     # (M, N): drift in M of the last N checks asks for retraining
    contract: DataContract = DIABETES_CONTRACT


def check_windows(baseline, windows: dict[str, Window], policy: DriftPolicy) -> dict[str, DriftResult]:
    """Each window's result against the baseline; a window made of the same parts as another (the same
    object) is checked once."""
    checked: dict[int, DriftResult] = {}
    results = {}
    for name, window in windows.items():
        if id(window) not in checked:
            checked[id(window)] = check_drift(baseline, project(window.profile, baseline), policy)
        results[name] = checked[id(window)]
    return results


class DriftMonitoring:
    """Cheap checks that can run often: their cost grows with the number of files, not rows."""

    def __init__(self, repos: Repositories, files: FileStore, platform: MLPlatform, reader: WindowReader,
                 captures: CapturedInputs | None, notifier: Notifier, retraining: RetrainingPolicy,
                 performance: PerformanceTracking, config: DriftConfig, urls: PublicUrls, clock):
        self.repos = repos
        self.files = files
        self.platform = platform
        self.captures = captures
        self.notifier = notifier
        self.retraining = retraining
        self.performance = performance
        self.config = config
        self.urls = urls
        self.clock = clock
        self.profiles = WindowProfiles(repos, files, reader, captures, config.contract, config.windows)

    def check_drift(self, trigger: str = "timer") -> dict:
        """Compare the three windows with the champion's baseline; the recent window decides."""
        now = self.clock()
        check_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        production = self.repos.production.get()
        champion = production.champion_version
        record = {"id": check_id, "at": iso(now), "trigger": trigger, "champion_version": champion}
        if not champion:
            record.update(verdict="no_champion", detail="no model serves production yet: nothing to compare with")
            return self.repos.drift_checks.add(record)
        baseline = baseline_from_profile(self.platform.get_baseline_profile(self.config.model_name, champion))
        segments = (self.captures.segments(self.config.endpoint_name, production.champion_deployment)
                    if production.champion_deployment and self.captures is not None else [])
        windows = self.profiles.windows(champion, self._window_batches(champion), segments, now)
        results = check_windows(baseline, windows, self.config.policy)
        result, recent = results[RECENT], windows[RECENT]
        report_name = f"drift/{check_id}.html"
        summaries = {name: {"verdict": r.verdict, "rows": r.rows, "files": len(windows[name].files),
                            "drifted_features": list(r.drifted_features), "reason": r.reason}
                     for name, r in results.items()}
        record.update(
            verdict=result.verdict, rows=result.rows, files=recent.files, captured_rows=recent.captured_rows,
            captured_segments=recent.segments,
            drifted_features=list(result.drifted_features), drifted_share=result.drifted_share,
            problems=list(result.problems), result=result.to_dict(), windows=summaries,
            report={"container": self.config.reports_container, "name": report_name,
                    "url": self.urls.drift_report(check_id)},
            performance=self.performance.history(limit=5),
        )
        title = f"Drift check {check_id}: {result.verdict} ({self.config.model_name} v{champion})"
        self.files.write(self.config.reports_container, report_name,
                         render_html(result, title, {"JSON": self.urls.drift()}, summaries).encode(),
                         content_type="text/html; charset=utf-8")
        if result.verdict == "drift":
            record["confirmation"] = self._confirmation(champion)
            if record["confirmation"]["confirmed"]:
                reason = (f"data drift in {', '.join(result.drifted_features)} "
                          f"({result.rows} recent rows since v{champion})")
                record["retraining"] = self.retraining.request("drift", reason)
            else:
                record["retraining"] = {"retrain": False, "detail": record["confirmation"]["detail"]}
        self.repos.drift_checks.add(record)
        if result.verdict in ("drift", "data_quality"):
            self.notifier.notify(Notification(
                kind=f"drift.{result.verdict}", title=title,
                text=" ".join([result.reason, *result.problems]),
                facts={"rows": result.rows, "files": len(recent.files),
                       "retraining": record.get("retraining", {}).get("detail", "-")},
                links={"Report": record["report"]["url"]},
            ))
        return record

    def latest(self, history: int = 20, continuation: str | None = None) -> dict:
        """The newest check in full, a page of check summaries, and the performance history."""
        page = self.repos.drift_checks.newest(history, continuation)
        summaries = [{k: c.get(k) for k in ("id", "at", "trigger", "verdict", "rows", "drifted_features",
                                             "champion_version", "retraining", "windows")} for c in page.items]
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

    def _confirmation(self, champion: str) -> dict:
        """Whether this drift (the check being recorded) makes M of the last N checks of this champion drift."""
        needed, of = self.config.confirmations
        earlier = [c for c in self.repos.drift_checks.newest(of - 1).items
                   if c.get("champion_version") == champion][: of - 1] if of > 1 else []
        drifts = 1 + sum(1 for c in earlier if c.get("verdict") == "drift")
        confirmed = drifts >= needed
        detail = (f"drift in {drifts} of the last {1 + len(earlier)} checks"
                  + ("" if confirmed else f"; retraining waits for {needed} of {of} (DRIFT_CONFIRMATIONS)"))
        return {"confirmed": confirmed, "drifts": drifts, "checks": 1 + len(earlier), "detail": detail}

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
