"""The online endpoints port (Azure ML managed online endpoints: named deployments, traffic weights)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DeploymentInfo:
    name: str
    model_name: str
    model_version: str
    state: str  # "Creating" | "Succeeded" | "Failed" | "Deleting" (Azure ML provisioning states)


@dataclass(frozen=True)
class EndpointInfo:
    name: str
    scoring_uri: str
    traffic: dict  # deployment name → percent of live traffic (sums to 0 or 100)
    mirror_traffic: dict  # at most one deployment, at most 50 percent
    deployments: tuple[DeploymentInfo, ...] = ()
    state: str = "Succeeded"  # the endpoint's provisioning state: "Creating"/"Updating" while an operation runs

    def deployment(self, name: str) -> DeploymentInfo | None:
        return next((d for d in self.deployments if d.name == name), None)

    @property
    def live_traffic(self) -> dict:
        """The deployments that get live traffic, with their percent (those at 0% left out)."""
        return {name: percent for name, percent in self.traffic.items() if percent}


@dataclass(frozen=True)
class ScoringResult:
    status: int
    body: object  # parsed JSON when the response was JSON, else the text
    latency_ms: float


class OnlineEndpoints(Protocol):
    """An online endpoint with named deployments of registered models and a traffic split.

    Names follow Azure's rules (3-32 characters, a letter first, letters/digits/dashes); at most 20
    deployments per endpoint. Every call raises PlatformError naming the step that failed; InvalidInput
    for a request Azure would refuse (bad name, traffic sum, ...). Inputs served: see CapturedInputs."""

    def ensure_endpoint(self, endpoint: str, wait: bool = True) -> EndpointInfo:
        """Create the endpoint if missing; return its current state (with `wait=False` at once,
        possibly still "Creating")."""

    def get_endpoint(self, endpoint: str) -> EndpointInfo:
        """Current deployments and traffic; NotFound if the endpoint does not exist."""

    def create_or_update_deployment(self, endpoint: str, deployment: str, model_name: str,
                                    model_version: str, timeout_seconds: float = 600) -> DeploymentInfo:
        """Deploy that model version under that name, at 0% traffic when new; wait until it answers."""

    def begin_deployment(self, endpoint: str, deployment: str, model_name: str, model_version: str) -> DeploymentInfo:
        """Start deploying that model version under that name (0% traffic when new) and return at once,
        usually with state "Creating"; asking again for what is deployed or deploying is a no-op."""

    def get_deployment(self, endpoint: str, deployment: str) -> DeploymentInfo | None:
        """The deployment's current state ("Creating" until it answers, then "Succeeded", or "Failed"),
        None when it does not exist (nor the endpoint)."""

    def delete_deployment(self, endpoint: str, deployment: str, wait: bool = True) -> None:
        """Remove a deployment; a no-op when absent; Conflict while it has live or mirrored traffic;
        with `wait=False` return once the deletion is accepted."""

    def set_traffic(self, endpoint: str, traffic: dict, mirror_traffic: dict | None = None,
                    wait: bool = True) -> EndpointInfo:
        """Replace the live traffic split (and the mirror split when given) in one update; with
        `wait=False` return once the update is accepted (the endpoint then reads "Updating")."""

    def invoke(self, endpoint: str, body: dict, deployment: str | None = None,
               timeout_seconds: float = 30) -> ScoringResult:
        """POST a scoring request (Azure ML MLflow body: {"input_data": {"columns", "index", "data"}}),
        to one named deployment when `deployment` is given, else split by live traffic."""
