"""The quality gate use case: score candidate and champion on the same rows, judge with the gate's
rule (shared/domain/gate.py), and add how often the two would answer recent rows differently."""
from __future__ import annotations

import logging
from dataclasses import replace

from shared.domain.batches import BatchRef
from shared.domain.contract import DIABETES_CONTRACT
from shared.domain.evaluation import disagreement
from shared.domain.gate import GateResult, judge_rows
from shared.domain.model_contract import JOB_NAME_TAG
from shared.ports import RowsSource
from shared.services.monitoring.captures import captured_csv
from shared.services.promotion.context import PromotionContext

log = logging.getLogger(__name__)


class QualityGate:
    """Candidate vs champion on the candidate's held-out split plus the newest labelled file neither trained on."""

    def __init__(self, ctx: PromotionContext):
        self.ctx = ctx
        self.policy = ctx.config.gate

    def evaluate(self, version: str, champion: str | None) -> GateResult:
        """Every figure of the gate (metrics, interval, subgroups, disagreement) and its verdict."""
        champion = champion if champion and champion != version else None
        versions = [version] + ([champion] if champion else [])
        newest = self._newest_untrained(version, champion)
        rows = self.ctx.platform.predict_proba(self.ctx.config.model_name, versions, RowsSource(
            heldout_of=version, files=tuple(self._file(b) for b in newest), max_rows_per_file=self.policy.recent_rows))
        result = judge_rows(self.policy, rows, version, champion)
        if champion:
            result = replace(result, disagreement=self._disagreement(version, champion))
        return result

    def _newest_untrained(self, version: str, champion: str | None) -> list[BatchRef]:
        """The newest accepted CSV file neither version trained on (none when a training set is unknown)."""
        if not self.policy.recent_rows:
            return []
        trained = [self._training_set(v) for v in (version, champion) if v]
        if any(t is None for t in trained):
            return []
        seen = set().union(*trained)
        fresh = [b for b in self.ctx.repos.accepted.all() if (b.name, b.etag) not in seen and _is_csv(b.name)]
        return fresh[-1:]  # read from its immutable copy: an upload or delete of the original changes nothing

    def _training_set(self, version: str) -> set[tuple[str, str]] | None:
        event = self.ctx.repos.model_events.find(version)
        job_name = (event.get("tags") or {}).get(JOB_NAME_TAG) if event else None
        job = self.ctx.repos.jobs.find(job_name) if job_name else None
        return {(b["name"], b["etag"]) for b in job.batches} if job else None

    def _disagreement(self, version: str, champion: str) -> dict:
        """On the recent window: the newest accepted file and the live traffic the champion served
        (its capture segments newest first, so the rows taken are the most recent)."""
        try:
            files = [self._file(b) for b in self.ctx.repos.accepted.all()[-1:] if _is_csv(b.name)]
            deployment = self.ctx.repos.production.get().champion_deployment
            if deployment and self.ctx.captures is not None:
                files.append(("captured live traffic", captured_csv(self.ctx.captures, self.ctx.config.endpoint_name,
                                                                    deployment, newest_first=True)))
            if not files or not self.policy.recent_rows:
                return {"rows": 0, "share": None, "evaluated_on": "no recent rows"}
            rows = self.ctx.platform.predict_proba(self.ctx.config.model_name, [version, champion], RowsSource(
                files=tuple(files), max_rows_per_file=self.policy.recent_rows))
            return disagreement(rows, version, champion, self.policy.threshold, drop=DIABETES_CONTRACT.identifiers)
        except Exception as error:  # noqa: BLE001 - a figure for the reviewer; the gate's verdict does not depend on it
            log.warning("disagreement of v%s and v%s not measured: %s", version, champion, error.__class__.__name__)
            return {"rows": 0, "share": None, "error": f"not measured ({error.__class__.__name__})"}

    def _file(self, batch: BatchRef) -> tuple:
        return batch.name, self.ctx.files.read_chunks(*batch.stored_at)


def _is_csv(name: str) -> bool:
    return not name.lower().endswith((".parquet", ".pq"))
