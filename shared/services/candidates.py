"""Registered model version → quality gate → staging deployment → smoke test → approval request."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

from shared.domain.candidates import (
    AWAITING_APPROVAL,
    DEPLOYING,
    FAILED,
    GATE_FAILED,
    GATING,
    RECEIVED,
    RETRYABLE,
    SMOKE_FAILED,
    STALE,
    SUPERSEDED,
    Approval,
    Candidate,
    Production,
)
from shared.domain.clock import iso
from shared.domain.errors import Conflict, DomainError
from shared.domain.gate import GateResult, judge
from shared.domain.links import sign_decision
from shared.domain.models import ModelRegistered
from shared.domain.naming import deployment_name_for
from shared.domain.smoke import SmokeResult, check_response, payload, sample_rows
from shared.ports import DocumentExists, Notification
from shared.services.delivery import DeliveryConfig, DeliveryPorts, Records, close_approval, remove_staging_deployment
from shared.services.documents import update_document
from shared.services.training import accepted_data

log = logging.getLogger(__name__)


class CandidatePipeline:
    """Takes each registered version of the model once from registration to an approval request."""

    def __init__(self, ports: DeliveryPorts, config: DeliveryConfig):
        self.ports = ports
        self.config = config
        self.records = Records(ports.documents, config.model_name, ports.clock)

    def handle_registered(self, event: ModelRegistered) -> Candidate:
        """Idempotent: a repeated delivery of the same version returns its record and does nothing."""
        candidate = Candidate(
            model_name=event.model_name, version=event.version, status=RECEIVED,
            received_at=iso(self.ports.clock()), run_id=event.run_id, source=event.source,
            history=[{"at": iso(self.ports.clock()), "status": RECEIVED, "detail": f"via {event.source}"}],
        )
        try:
            self.ports.documents.create(candidate.key, candidate.to_dict())
        except DocumentExists:
            return self.records.candidate(event.version)
        return self._advance(candidate)

    def redeploy(self, version: str) -> Candidate:
        """Retry a candidate that failed on the platform or in its smoke test."""

        def claim(doc: dict | None) -> dict | None:
            if doc["status"] not in RETRYABLE:
                raise Conflict(f"candidate v{version} is {doc['status']}; only {sorted(RETRYABLE)} can be redeployed")
            doc["status"] = RECEIVED
            doc["history"].append({"at": iso(self.ports.clock()), "status": RECEIVED, "detail": "redeploy requested"})
            return doc

        key = self.records.candidate(version).key  # NotFound for unknown versions
        doc, _ = update_document(self.ports.documents, key, claim)
        return self._advance(Candidate.from_dict(doc), retry=True)

    def list(self) -> list[Candidate]:
        return self.records.candidates()

    # --- the steps -------------------------------------------------------------------

    def _advance(self, candidate: Candidate, retry: bool = False) -> Candidate:
        version = candidate.version
        production = self._claim_newest(version, retry)
        if production is None:
            newest = self.records.production().newest_candidate
            return self.records.set_candidate(version, STALE, f"v{newest} is newer; an older version never replaces it")
        step = "quality gate"
        deployment = None
        try:
            self.records.set_candidate(version, GATING)
            gate = self._gate(version, production)
            if not gate.passed:
                return self._gate_failed(version, gate)
            step = "staging deployment"
            deployment = deployment_name_for(self.config.model_name, version)
            self.records.set_candidate(version, DEPLOYING, f"deploying {deployment}", gate=gate.to_dict(), deployment=deployment)
            self._supersede_pending(production, version)
            self.ports.endpoints.ensure_endpoint(self.config.endpoint_name)
            self.ports.endpoints.create_or_update_deployment(self.config.endpoint_name, deployment, self.config.model_name, version)
            step = "smoke test"
            smoke = self._smoke_test(version, deployment)
            if not smoke.passed:
                return self._smoke_failed(version, deployment, smoke)
            step = "approval request"
            if self.config.mirror_percent and production.champion_deployment:
                self._mirror_to(deployment)
            return self._request_approval(version, deployment, gate, smoke, production)
        except DomainError as error:
            return self._failed(version, step, error.message, deployment)
        except Exception as error:  # noqa: BLE001 - recorded as failed (retryable), never lost
            log.exception("candidate v%s failed at %s", version, step)
            return self._failed(version, step, f"{error.__class__.__name__}: {error}", deployment)

    def _claim_newest(self, version: str, retry: bool) -> Production | None:
        """Record this version as the newest candidate, unless a newer one was already seen."""
        def claim(production: Production) -> Production | None:
            newest = int(production.newest_candidate or 0)
            if int(version) < newest or (int(version) == newest and not retry):
                raise _NotNewest()
            production.newest_candidate = version
            return production

        try:
            return self.records.change_production(claim)
        except _NotNewest:
            return None

    def _gate(self, version: str, production: Production) -> GateResult:
        champion = production.champion_version
        versions = [version] + ([champion] if champion and champion != version else [])
        scores = self.ports.platform.evaluate_models(self.config.model_name, versions, data_from_version=version)
        evaluated_on = f"held-out split of v{version}'s training set ({scores[version].get('rows', '?')} rows)"
        return judge(self.config.gate, _metrics(scores[version]),
                     _metrics(scores[champion]) if champion in scores else None, champion, evaluated_on)

    def _smoke_test(self, version: str, deployment: str) -> SmokeResult:
        columns, rows = self.ports.platform.get_input_example(self.config.model_name, version)
        recent_columns, recent_rows = self._recent_rows()
        if recent_rows and recent_columns == columns:
            rows = rows + recent_rows
        started = time.perf_counter()
        result = self.ports.endpoints.invoke(self.config.endpoint_name, payload(columns, rows), deployment=deployment)
        latency = (time.perf_counter() - started) * 1000
        return check_response(result.status, result.body, len(rows), latency, self.config.smoke_max_latency_ms)

    def _recent_rows(self) -> tuple[list[str], list[list]]:
        accepted = accepted_data(self.ports.documents)
        if not accepted:
            return [], []
        newest = accepted[-1]
        try:
            return sample_rows(self.ports.files.read_chunks(newest.container, newest.name, newest.etag, 64 * 1024), 5)
        except Exception:  # noqa: BLE001 - the input example alone still makes a smoke test
            log.warning("could not read recent rows from %s", newest.name)
            return [], []

    def _supersede_pending(self, production: Production, version: str) -> None:
        """A newer candidate closes the older pending approval (its links stop working) and replaces its staging."""
        old_approval, old_deployment = production.staging_approval, production.staging_deployment
        if not old_approval or production.staging_version == version:
            return
        closed = close_approval(self.ports, self.records, old_approval, SUPERSEDED,
                                actor="system", reason=f"superseded by v{version}")
        if closed and old_deployment:
            self._remove_staging(old_deployment)

    def _mirror_to(self, deployment: str) -> None:
        endpoint = self.ports.endpoints.get_endpoint(self.config.endpoint_name)
        self.ports.endpoints.set_traffic(self.config.endpoint_name, dict(endpoint.traffic),
                                         {deployment: self.config.mirror_percent})

    def _request_approval(self, version: str, deployment: str, gate: GateResult, smoke: SmokeResult,
                          production: Production) -> Candidate:
        now = self.ports.clock()
        info = self.ports.platform.get_model_version(self.config.model_name, version)
        approval = Approval(
            id=f"{self.config.model_name}-v{version}-{uuid.uuid4().hex[:8]}",
            model_name=self.config.model_name,
            candidate_version=version,
            deployment=deployment,
            champion_version=production.champion_version,
            champion_deployment=production.champion_deployment,
            gate=gate.to_dict(),
            smoke=smoke.to_dict(),
            training_set={
                "id": info.tags.get("training_set_id", ""),
                "batches": info.tags.get("training_set_batches", ""),
                "files": info.tags.get("training_set", ""),
                "job": info.tags.get("job_name", ""),
            },
            created_at=iso(now),
            expires_at=iso(now + timedelta(hours=self.config.approval_ttl_hours)),
        )
        self.ports.documents.create(approval.key, approval.to_dict())

        def stage(production: Production) -> Production:
            production.staging_version, production.staging_deployment = version, deployment
            production.staging_approval = approval.id
            return production

        self.records.change_production(stage)
        candidate = self.records.set_candidate(version, AWAITING_APPROVAL, f"approval {approval.id}",
                                               smoke=smoke.to_dict(), approval_id=approval.id)
        self.ports.audit.append({
            "at": iso(now), "action": "approval_requested", "actor": "system", "model": self.config.model_name,
            "version": version, "approval_id": approval.id, "champion_version": production.champion_version,
            "evidence": {"gate": gate.to_dict(), "smoke": smoke.to_dict()},
        })
        self.ports.notifier.notify(approval_notification(self.config, approval, gate))
        log.info("candidate v%s awaits approval %s", version, approval.id)
        return candidate

    # --- the unhappy paths -------------------------------------------------------------

    def _gate_failed(self, version: str, gate: GateResult) -> Candidate:
        candidate = self.records.set_candidate(version, GATE_FAILED, "; ".join(gate.reasons), gate=gate.to_dict())
        self.ports.audit.append({"at": iso(self.ports.clock()), "action": "gate_failed", "actor": "system",
                                 "model": self.config.model_name, "version": version, "evidence": {"gate": gate.to_dict()}})
        self.ports.notifier.notify(Notification(
            kind="candidate.gate_failed", title=f"{self.config.model_name} v{version} failed the quality gate",
            text="; ".join(gate.reasons), facts={"evaluated on": gate.evaluated_on}, table=gate.table(),
        ))
        return candidate

    def _smoke_failed(self, version: str, deployment: str, smoke: SmokeResult) -> Candidate:
        self._remove_staging(deployment)
        candidate = self.records.set_candidate(version, SMOKE_FAILED, "; ".join(smoke.problems), smoke=smoke.to_dict())
        self.ports.audit.append({"at": iso(self.ports.clock()), "action": "smoke_failed", "actor": "system",
                                 "model": self.config.model_name, "version": version, "evidence": {"smoke": smoke.to_dict()}})
        self.ports.notifier.notify(Notification(
            kind="candidate.smoke_failed", title=f"{self.config.model_name} v{version} failed its smoke test",
            text="; ".join(smoke.problems) + f". Staging deployment {deployment} removed.",
            links={"Retry": f"{self.config.public_base_url}/api/candidates/{self.config.model_name}/{version}/redeploy"},
        ))
        return candidate

    def _failed(self, version: str, step: str, reason: str, deployment: str | None) -> Candidate:
        if deployment:
            self._remove_staging(deployment)
        candidate = self.records.set_candidate(version, FAILED, f"{step}: {reason}", error=reason, failed_step=step)
        self.ports.notifier.notify(Notification(
            kind="candidate.failed", title=f"{self.config.model_name} v{version} failed at the {step}",
            text=reason, facts={"retry": f"POST /api/candidates/{self.config.model_name}/{version}/redeploy"},
        ))
        return candidate

    def _remove_staging(self, deployment: str) -> None:
        """Best effort: what is left is reported by the sweeper."""
        try:
            remove_staging_deployment(self.ports.endpoints, self.config.endpoint_name, deployment)
        except Exception as error:  # noqa: BLE001
            log.warning("could not remove staging deployment %s: %s", deployment, error)


class _NotNewest(Exception):
    pass


def _metrics(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if k != "rows"}


def approval_links(config: DeliveryConfig, approval: Approval) -> dict[str, str]:
    expires = _epoch(approval.expires_at)
    base = f"{config.public_base_url}/api/review/{approval.id}"
    return {
        "Approve": f"{base}/approve?token={sign_decision(config.signing_key, approval.id, 'approve', expires)}",
        "Reject": f"{base}/reject?token={sign_decision(config.signing_key, approval.id, 'reject', expires)}",
        "Details": f"{base}?token={sign_decision(config.signing_key, approval.id, 'view', expires)}",
    }


def approval_notification(config: DeliveryConfig, approval: Approval, gate: GateResult | None = None,
                          kind: str = "approval.requested", title_prefix: str = "Approval needed") -> Notification:
    smoke = approval.smoke
    champion = f"v{approval.champion_version}" if approval.champion_version else "none yet"
    return Notification(
        kind=kind,
        title=f"{title_prefix}: {approval.model_name} v{approval.candidate_version}",
        text=(f"Candidate v{approval.candidate_version} passed the quality gate and its smoke test on staging "
              f"deployment {approval.deployment} (0% live traffic). Champion: {champion}."),
        facts={
            "approval": approval.id,
            "gate": approval.gate.get("evaluated_on", ""),
            "smoke test": f"{'passed' if smoke.get('passed') else 'failed'}, {smoke.get('rows')} rows, {smoke.get('latency_ms')} ms",
            "training set": f"{approval.training_set.get('id', '')[:12]} ({approval.training_set.get('batches')} files, job {approval.training_set.get('job')})",
            "expires": approval.expires_at,
        },
        links=approval_links(config, approval),
        table=gate.table() if gate else _table_from(approval.gate),
    )


def _table_from(gate: dict) -> tuple:
    if not gate:
        return ()
    return GateResult(gate["passed"], gate["metric"], gate["candidate"], gate.get("champion"),
                      gate.get("champion_version"), gate.get("evaluated_on", ""), tuple(gate.get("reasons", []))).table()


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())

