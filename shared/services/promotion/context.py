"""What every part of the promotion path shares: its configuration, ports, repositories and links."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from shared.domain.clock import iso
from shared.domain.errors import DomainError
from shared.domain.gate import GatePolicy
from shared.domain.principals import ApproverPolicy
from shared.domain.smoke import check_response, payload
from shared.ports import AuditLog, CapturedInputs, FileStore, MLPlatform, Notifier, OnlineEndpoints
from shared.services.evidence import EvidenceService
from shared.services.repositories import Repositories
from shared.services.urls import PublicUrls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryConfig:
    model_name: str
    endpoint_name: str
    gate: GatePolicy
    smoke_max_latency_ms: float
    approval_ttl_hours: float
    approval_reminder_hours: float
    mirror_percent: int
    signing_key: str
    poll_seconds: float = 5
    deployment_timeout_seconds: float = 1800
    bake_minutes: float = 60
    auto_rollback: bool = True
    auth_mode: str = "none"  # "app-service": deciders are principals signed in by App Service authentication
    approvers_text: str = ""  # APPROVERS

    @property
    def approvers(self) -> ApproverPolicy:
        """Who may decide; an empty list admits anyone only without App Service authentication."""
        return ApproverPolicy.from_text(self.approvers_text, anyone_when_empty=self.auth_mode != "app-service")


@dataclass(frozen=True)
class PromotionContext:
    config: DeliveryConfig
    repos: Repositories
    files: FileStore
    platform: MLPlatform
    endpoints: OnlineEndpoints
    notifier: Notifier
    audit: AuditLog
    urls: PublicUrls
    clock: Callable[[], datetime]
    captures: CapturedInputs | None = None  # the inputs of live traffic (none: not read back)
    evidence: EvidenceService | None = None  # the evidence documents of approval requests (none: not issued)

    def record(self, action: str, actor: str, version: str, **details) -> None:
        """One audit entry about a version of this model."""
        self.audit.append({"at": iso(self.clock()), "action": action, "actor": actor,
                           "model": self.config.model_name, "version": version, **details})

    def why_not_answering(self, version: str, deployment: str | None, max_latency_ms: float) -> str:
        """'' when the deployment (None: live traffic) answers the version's input example in time, else why not."""
        try:
            columns, rows = self.platform.get_input_example(self.config.model_name, version)
            result = self.endpoints.invoke(self.config.endpoint_name, payload(columns, rows), deployment=deployment)
        except DomainError as error:
            return error.message
        smoke = check_response(result.status, result.body, len(rows), result.latency_ms, max_latency_ms)
        return "" if smoke.passed else "; ".join(smoke.problems)

    def delete_quietly(self, deployment: str) -> None:
        """Best effort: what is left is reported (and removed) by the sweeper."""
        try:
            self.endpoints.delete_deployment(self.config.endpoint_name, deployment, wait=False)
        except Exception as error:  # noqa: BLE001
            log.warning("could not delete deployment %s: %s", deployment, error)
