"""The evidence behind each approval request: one document, built when the request is made, stored
immutably, and read back by the review page, the decision check and the dossier.

Only the candidate's own record (gate, smoke test, versions) is required; every other part (the
training set, its drift against the champion, the champion's history, links) is best effort: a part
that cannot be gathered says so in a note and the document is issued all the same, so a reviewer
is never blocked by a missing figure.
"""
from __future__ import annotations

import logging
from typing import Callable

from shared.domain import evidence as doc
from shared.domain.candidates import Approval, Candidate
from shared.domain.clock import iso
from shared.domain.drift import baseline_from_profile
from shared.domain.drift.window_profile import merge_profiles, profile_from_dict, profile_grids
from shared.domain.errors import NotFound
from shared.domain.model_contract import JOB_NAME_TAG
from shared.ports import MLPlatform, page_url
from shared.services.monitoring.drift import DriftConfig, check_windows
from shared.services.monitoring.windows import Window
from shared.services.repositories import Repositories
from shared.services.urls import PublicUrls

log = logging.getLogger(__name__)

TRAINING = "training set"


class EvidenceService:
    """Issues and reads the evidence documents of approval requests (shared/domain/evidence.py)."""

    def __init__(self, repos: Repositories, platform: MLPlatform, urls: PublicUrls, drift: DriftConfig,
                 clock: Callable):
        self.repos = repos
        self.platform = platform
        self.urls = urls
        self.drift = drift
        self.model_name = drift.model_name
        self.clock = clock

    def issue(self, candidate: Candidate, approval: Approval) -> tuple[dict, str]:
        """The approval's document and its digest: built and stored on the first call; every later call
        (a re-run of the request step with the same approval id) returns the stored one unchanged."""
        stored = self.repos.evidence.find(candidate.version, approval.id)
        if stored is None:
            stored = self.repos.evidence.add(self.build(candidate, approval))
        return stored, doc.digest(stored)

    def build(self, candidate: Candidate, approval: Approval) -> dict:
        """A new document for the approval (not stored); `approval.artifact_digest` is recorded in it."""
        notes: list[str] = []
        version, champion = candidate.version, approval.champion_version
        info = self._part(notes, "model version", lambda: self.platform.get_model_version(self.model_name, version))
        job, set_id, files, profiles, set_note = self._training_files(candidate, approval, notes)
        training = self._training_set(approval, job, set_id, files, set_note, notes)
        run_id = candidate.run_id or (info.run_id if info else None)
        drift = self._part(notes, "training drift", lambda: self._training_drift(champion, profiles),
                           fallback=doc.no_training_drift("not measured"))
        history = self._part(notes, "history", lambda: self._history(champion), fallback={})
        return doc.assemble(
            model_name=self.model_name, approval_id=approval.id, built_at=iso(self.clock()),
            candidate={"version": version, "run_id": run_id,
                       "created_by": info.created_by if info else "", "deployment": approval.deployment,
                       "requested_by": approval.requested_by},
            champion=({"version": champion, "deployment": approval.champion_deployment or ""} if champion else None),
            gate=candidate.gate, smoke=candidate.smoke, training=training, drift=drift, history=history,
            links=self._links(run_id, champion, notes), artifact_digest=approval.artifact_digest, notes=notes)

    def for_approval(self, approval_id: str) -> dict:
        """The document the approval was issued with; NotFound if none."""
        found = self.repos.evidence.for_approval(approval_id)
        if found is None:
            raise NotFound(f"no evidence document for approval {approval_id!r}")
        return found

    def for_candidate(self, model_name: str, version: str) -> dict:
        """The newest document of that version; NotFound if none."""
        found = self.repos.evidence.for_version(version) if model_name == self.model_name else None
        if found is None:
            raise NotFound(f"no evidence document for {model_name} v{version}")
        return found

    @staticmethod
    def digest(document: dict) -> str:
        """"sha256:" over the document's canonical JSON (what Approval.evidence_digest holds)."""
        return doc.digest(document)

    # --- the parts ---------------------------------------------------------------------------

    @staticmethod
    def _part(notes: list[str], what: str, gather: Callable, fallback=None):
        try:
            return gather()
        except Exception as error:  # noqa: BLE001 - a missing part is noted, the document is still issued
            log.warning("evidence: %s not gathered (%s)", what, error.__class__.__name__)
            notes.append(f"{what}: not gathered ({error.__class__.__name__})")
            return fallback

    def _training_files(self, candidate: Candidate, approval: Approval, notes: list[str]):
        """The job that trained the version: (its name, training set id, [file entries], [their decoded
        profiles], note)."""
        def gather():
            job_name = self._job_of(candidate.version) or approval.training_set.get("job")
            job = self.repos.jobs.find(job_name) if job_name else None
            if job is None:
                return job_name or "", "", [], [], "the training job is unknown"
            files, profiles, unprofiled = [], [], 0
            for batch in job.batches:
                entry, profile = self._file(batch)
                files.append(entry)
                if profile is None:
                    unprofiled += 1
                else:
                    profiles.append(profile)
            note = f"{unprofiled} of {len(files)} files have no stored profile" if unprofiled else ""
            return job.name, job.training_set_id, files, profiles, note

        return self._part(notes, TRAINING, gather, fallback=("", "", [], [], "not gathered"))

    def _job_of(self, version: str) -> str | None:
        event = self.repos.model_events.find(version)
        return (event.get("tags") or {}).get(JOB_NAME_TAG) if event else None

    def _file(self, batch: dict):
        record = self.repos.batches.find(batch["name"], batch["etag"])
        stored = self.repos.profiles.find(batch["name"], batch["etag"])
        profile = profile_from_dict(stored["profile"]) if stored else None
        sha256 = (record.sha256 if record else "") or batch.get("sha256", "")
        return {"name": batch["name"], "etag": batch["etag"], "rows": record.rows if record else None,
                "positives": _positives(profile, self.drift.contract.label),
                "accepted_at": record.decided_at if record else None,
                "digest": f"sha256:{sha256}" if sha256 else None}, profile

    def _training_set(self, approval: Approval, job: str, set_id: str, files: list[dict], note: str,
                      notes: list[str]) -> dict:
        share = None
        if files and any(f["positives"] is None for f in files):
            share = self._part(notes, "class balance", lambda: self._split_share(approval.candidate_version))
            if share is not None:
                note = "; ".join(filter(None, [note, "diabetic cases are not counted per file; the class balance "
                                               "shown is that of the model's training split"]))
        return doc.training_set(set_id or approval.training_set.get("id", ""), job, files, note, share)

    def _split_share(self, version: str) -> float | None:
        """The positive rate of the version's training split, from the baseline profile its run logged."""
        rate = (self.platform.get_baseline_profile(self.model_name, version).get("label") or {}).get("positive_rate")
        return round(float(rate), 6) if rate is not None else None

    def _training_drift(self, champion: str | None, profiles: list) -> dict:
        """The merged profiles of the training files against the champion's baseline, compared as the
        drift monitor compares a window."""
        if not champion:
            return doc.no_training_drift("no champion")
        if not profiles:
            return doc.no_training_drift("no stored profile of the training files")
        baseline = baseline_from_profile(self.platform.get_baseline_profile(self.model_name, champion))
        merged = merge_profiles(profiles, profile_grids(self.drift.contract.columns))
        result = check_windows(baseline, {TRAINING: Window(merged)}, self.drift.policy)[TRAINING]
        return doc.training_drift(champion, result.to_dict())

    def _history(self, champion: str | None) -> dict:
        if not champion:
            return {"drift": [], "performance": []}
        checks = [c for c in self.repos.drift_checks.newest(doc.HISTORY_LIMIT).items
                  if c.get("champion_version") == champion]
        performance = [r for r in self.repos.performance.newest(doc.HISTORY_LIMIT).items
                       if r.get("champion_version") == champion]
        return {"drift": doc.drift_history(checks), "performance": doc.performance_history(performance)}

    def _links(self, run_id: str | None, champion: str | None, notes: list[str]) -> dict:
        """Plain URLs (never a key): the run's page in the platform's UI (from the platform's own address,
        no new setting), the champion's newest drift report, this service's audit route."""
        def run() -> str | None:
            return page_url(self.platform.run_url(run_id)) if run_id else None

        def report() -> str | None:
            if not champion:
                return None
            checks = self.repos.drift_checks.newest(doc.HISTORY_LIMIT).items
            return next((c["report"]["url"] for c in checks
                         if c.get("champion_version") == champion and c.get("report")), None)

        return {"mlflow_run": self._part(notes, "MLflow run link", run),
                "drift_report": self._part(notes, "drift report link", report), "audit": self.urls.audit()}


def _positives(profile, label: str | None) -> int | None:
    """Rows whose label is 1, when the profile counts the label column (one grid cell per integer)."""
    if profile is None or not label or label not in profile.baseline.features:
        return None
    grid = profile.baseline.features[label]
    cell = int(round((1 - grid.start) / grid.width - 0.5))
    if not grid.integer or grid.width != 1 or not 0 <= cell < grid.cells:
        return None
    return int(profile.tally(label).counts[cell + 1])
