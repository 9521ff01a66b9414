"""OnlineEndpoints on Azure ML managed online endpoints (azure-ai-ml, imported lazily).

- deployments are MLflow no-code `ManagedOnlineDeployment`s (`model=azureml:<name>:<version>`,
  no environment, no code); a new one gets no traffic (the endpoint is not touched);
- traffic and mirror traffic change in one endpoint update (`begin_create_or_update`);
- scoring calls go to the scoring URI directly through an azure-core pipeline with the
  endpoint key, NOT through `online_endpoints.invoke`, whose `deployment_name` sticks to a
  class-level header and would route later calls to that deployment (docs/platform-facts.md#invoke-sticky-header);
- every long-running operation waits at most its timeout: PlatformError naming the step when
  it fails or does not finish; nothing is changed on our side then (Azure keeps what it had).
"""
from __future__ import annotations

import json
import logging
import re
import threading

from shared.adapters.azure_ml.config import AzureMLConfig
from shared.adapters.azure_ml.errors import azure_step, wait_for
from shared.adapters.azure_ml.scoring_client import DEPLOYMENT_HEADER, ScoringClient, parse_body
from shared.domain.errors import Conflict, InvalidInput, NotFound, PlatformError
from shared.domain.naming import MAX_DEPLOYMENTS, validate_deployment_name, validate_endpoint_name
from shared.domain.traffic import check_split, model_ref, percent_map
from shared.ports import DeploymentInfo, EndpointInfo, ScoringResult

log = logging.getLogger(__name__)

_ARM_MODEL = re.compile(r"/models/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$", re.IGNORECASE)


class AzureOnlineEndpoints:
    """OnlineEndpoints over an MLClient; `scoring_transport` (an azure-core HttpTransport)
    replaces the default requests transport of scoring calls (tests)."""

    def __init__(self, ml_client, config: AzureMLConfig, scoring_transport=None):
        self._ml = ml_client
        self.config = config
        self._scoring = ScoringClient(scoring_transport)
        self._targets: dict[str, tuple[str, str]] = {}  # endpoint → (scoring URI, key); never logged
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AzureOnlineEndpoints(workspace={self.config.workspace!r})"

    # ------------------------------------------------------------------ endpoints

    def ensure_endpoint(self, endpoint: str, wait: bool = True) -> EndpointInfo:
        endpoint = validate_endpoint_name(endpoint)
        try:
            return self.get_endpoint(endpoint)
        except NotFound:
            pass
        from azure.ai.ml.entities import ManagedOnlineEndpoint

        step = f"create online endpoint {endpoint!r}"
        with azure_step(step):
            poller = self._ml.online_endpoints.begin_create_or_update(
                ManagedOnlineEndpoint(name=endpoint, auth_mode="key",
                                      description="diabetes retraining: production + staging deployments"))
        if not wait:
            log.info("%s: started", step)
            return EndpointInfo(endpoint, "", {}, {}, (), "Creating")
        wait_for(poller, step, self.config.lro_timeout_seconds)
        log.info("%s: done", step)
        return self.get_endpoint(endpoint)

    def get_endpoint(self, endpoint: str) -> EndpointInfo:
        return self._read(validate_endpoint_name(endpoint))[1]

    def _read(self, endpoint: str):
        """(the azure.ai.ml OnlineEndpoint, our EndpointInfo of it)."""
        with azure_step(f"get online endpoint {endpoint!r}"):
            azure_endpoint = self._ml.online_endpoints.get(endpoint)
        with azure_step(f"list deployments of online endpoint {endpoint!r}"):
            deployments = list(self._ml.online_deployments.list(endpoint_name=endpoint))
        infos = tuple(sorted((_deployment_info(d) for d in deployments), key=lambda d: d.name))
        live = {name: int(p) for name, p in (azure_endpoint.traffic or {}).items()}
        traffic = {d.name: live.get(d.name, 0) for d in infos}
        traffic.update({name: p for name, p in live.items() if name not in traffic})
        mirror = {name: int(p) for name, p in (azure_endpoint.mirror_traffic or {}).items() if int(p)}
        state = _state_text(getattr(azure_endpoint, "provisioning_state", None)) or "Succeeded"
        return azure_endpoint, EndpointInfo(endpoint, azure_endpoint.scoring_uri or "", traffic, mirror, infos, state)

    # ---------------------------------------------------------------- deployments

    def create_or_update_deployment(self, endpoint: str, deployment: str, model_name: str,
                                    model_version: str, timeout_seconds: float = 600) -> DeploymentInfo:
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        model_name, model_version = model_ref(model_name, model_version)
        step = f"deploy {model_name} version {model_version} as {endpoint}/{deployment}"
        current = self.get_endpoint(endpoint)
        existing = current.deployment(deployment)
        if existing is None and len(current.deployments) >= MAX_DEPLOYMENTS:
            raise Conflict(f"{step}: endpoint already has the maximum of {MAX_DEPLOYMENTS} deployments")
        if (existing is not None and existing.state == "Succeeded" and existing.model_name == model_name
                and existing.model_version == model_version):
            log.info("%s: already serving that version", step)
            return existing
        with azure_step(step):
            poller = self._ml.online_deployments.begin_create_or_update(
                self._deployment_entity(endpoint, deployment, model_name, model_version))
        wait_for(poller, step, timeout_seconds)
        with azure_step(f"{step}: read the deployment back"):
            result = _deployment_info(self._ml.online_deployments.get(name=deployment, endpoint_name=endpoint))
        if result.state != "Succeeded":
            raise PlatformError(f"{step}: the deployment is {result.state}, not Succeeded")
        log.info("%s: done", step)
        return result

    def begin_deployment(self, endpoint: str, deployment: str, model_name: str, model_version: str) -> DeploymentInfo:
        """Send the deployment's PUT and return without waiting for the long-running operation
        (minutes for a first MLflow deployment); `get_deployment` reads its provisioning state."""
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        model_name, model_version = model_ref(model_name, model_version)
        step = f"start deploying {model_name} version {model_version} as {endpoint}/{deployment}"
        existing = self.get_deployment(endpoint, deployment)
        if existing is not None and existing.model_name == model_name and existing.model_version == model_version \
                and existing.state in ("Succeeded", "Creating", "Updating"):
            return existing
        if existing is None and len(self.get_endpoint(endpoint).deployments) >= MAX_DEPLOYMENTS:
            raise Conflict(f"{step}: endpoint already has the maximum of {MAX_DEPLOYMENTS} deployments")
        with azure_step(step):
            self._ml.online_deployments.begin_create_or_update(
                self._deployment_entity(endpoint, deployment, model_name, model_version))
        log.info("%s: started", step)
        return DeploymentInfo(deployment, model_name, model_version, "Creating")

    def _deployment_entity(self, endpoint: str, deployment: str, model_name: str, model_version: str):
        """An MLflow no-code deployment whose model inputs Azure ML's data collector keeps: the
        collection `config.data_collection` (model_inputs: what MLflow deployments log when data
        collection is on), rolled per hour, so its files land under
        modelDataCollector/<endpoint>/<deployment>/<collection>/YYYY/MM/DD/HH/ in the workspace
        blob store (docs/platform-facts.md#data-collection)."""
        from azure.ai.ml.entities import DataCollector, DeploymentCollection, ManagedOnlineDeployment

        return ManagedOnlineDeployment(
            name=deployment, endpoint_name=endpoint,
            model=f"azureml:{model_name}:{model_version}",
            instance_type=self.config.instance_type,
            instance_count=self.config.instance_count,
            data_collector=DataCollector(collections={self.config.data_collection: DeploymentCollection(enabled="true")},
                                         rolling_rate="Hour"),
        )

    def get_deployment(self, endpoint: str, deployment: str) -> DeploymentInfo | None:
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        try:
            with azure_step(f"get deployment {endpoint}/{deployment}"):
                info = _deployment_info(self._ml.online_deployments.get(name=deployment, endpoint_name=endpoint))
        except NotFound:
            return None
        # Azure's transitional states (Updating, Scaling, ...) read as still being created
        return info if info.state in ("Succeeded", "Failed", "Canceled") else DeploymentInfo(
            info.name, info.model_name, info.model_version, "Creating" if info.state != "Canceled" else "Failed")

    def delete_deployment(self, endpoint: str, deployment: str, wait: bool = True) -> None:
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        step = f"delete deployment {endpoint}/{deployment}"
        try:
            current = self.get_endpoint(endpoint)
        except NotFound:
            return
        if current.deployment(deployment) is None:
            return
        live, mirror = current.traffic.get(deployment, 0), current.mirror_traffic.get(deployment, 0)
        if live or mirror:
            raise Conflict(f"{step}: it still has {live}% live and {mirror}% mirrored traffic; move the traffic first")
        try:
            with azure_step(step):
                poller = self._ml.online_deployments.begin_delete(name=deployment, endpoint_name=endpoint)
            if not wait:  # the deletion goes on in Azure; the sweeper sees what is left
                log.info("%s: started", step)
                return
            wait_for(poller, step, self.config.lro_timeout_seconds)
        except NotFound:
            return  # deleted meanwhile
        log.info("%s: done", step)

    # -------------------------------------------------------------------- traffic

    def set_traffic(self, endpoint: str, traffic: dict, mirror_traffic: dict | None = None,
                    wait: bool = True) -> EndpointInfo:
        """One endpoint update with the whole live split (deployments left out get 0%) and the
        mirror split when given. On failure Azure keeps the previous split (nothing is retried
        here: the core decides what to do)."""
        endpoint = validate_endpoint_name(endpoint)
        step = f"set traffic of endpoint {endpoint!r}"
        live = percent_map(traffic, f"{step}: traffic")
        mirror = None if mirror_traffic is None else percent_map(mirror_traffic, f"{step}: mirror_traffic")
        check_split(live, mirror, step)
        azure_endpoint, current = self._read(endpoint)
        known = {d.name for d in current.deployments}
        mirror_now = current.mirror_traffic if mirror is None else {n: p for n, p in mirror.items() if p}
        for name in list(live) + list(mirror or {}):
            if name not in known:
                raise InvalidInput(f"{step}: no deployment named {name!r} (known: {sorted(known)})")
        check_split(live, mirror_now, step)
        for name, percent in {**live, **mirror_now}.items():
            state = current.deployment(name).state if current.deployment(name) else None
            if percent and state == "Deleting":
                raise Conflict(f"{step}: deployment {name!r} is being deleted")
        azure_endpoint.traffic = {name: live.get(name, 0) for name in sorted(known)}
        azure_endpoint.mirror_traffic = dict(mirror_now)
        with azure_step(step):
            poller = self._ml.online_endpoints.begin_create_or_update(azure_endpoint)
        if not wait:
            log.info("%s: update to live %s started", step, live)
            return self.get_endpoint(endpoint)
        wait_for(poller, step, self.config.lro_timeout_seconds)
        info = self.get_endpoint(endpoint)
        log.info("%s: live %s, mirror %s", step, info.traffic, info.mirror_traffic)
        return info

    # -------------------------------------------------------------------- scoring

    def invoke(self, endpoint: str, body: dict, deployment: str | None = None,
               timeout_seconds: float = 30) -> ScoringResult:
        """POST the body to the scoring URI with the endpoint key (`Authorization: Bearer`), and
        `azureml-model-deployment` only when a deployment is named. Any HTTP status is returned;
        PlatformError when the endpoint cannot be reached. A 401 refreshes the key once."""
        endpoint = validate_endpoint_name(endpoint)
        if deployment is not None:
            deployment = validate_deployment_name(deployment)
        if not isinstance(body, dict):
            raise InvalidInput(f"invoke endpoint {endpoint!r}: the body must be a JSON object")
        payload = json.dumps(body)
        for attempt in (1, 2):
            scoring_uri, key = self._target(endpoint, refresh=attempt == 2)
            status, data, content_type, latency_ms = self._scoring.post(endpoint, scoring_uri, key, payload,
                                                                        deployment, timeout_seconds)
            if status != 401:
                break
        return ScoringResult(status, parse_body(data, content_type), latency_ms)

    def _target(self, endpoint: str, refresh: bool) -> tuple[str, str]:
        with self._lock:
            cached = None if refresh else self._targets.get(endpoint)
        if cached:
            return cached
        step = f"invoke endpoint {endpoint!r}: get its scoring URI and key"
        with azure_step(step):
            scoring_uri = self._ml.online_endpoints.get(endpoint).scoring_uri
            key = self._ml.online_endpoints.get_keys(endpoint).primary_key
        if not scoring_uri or not key:
            raise PlatformError(f"{step}: the endpoint has no scoring URI or key yet")
        with self._lock:
            self._targets[endpoint] = (scoring_uri, key)
        return scoring_uri, key

# ----------------------------------------------------------------------- helpers


def _deployment_info(deployment) -> DeploymentInfo:
    name, version = _parse_model(getattr(deployment, "model", None))
    state = _state_text(getattr(deployment, "provisioning_state", None)) or "Creating"
    return DeploymentInfo(deployment.name, name, version, state)


def _state_text(state) -> str:
    """A provisioning state as ARM spells it: the SDK gives a str enum (EndpointProvisioningState.SUCCEEDED,
    whose str() is its qualified name, not "Succeeded") when it knows the value, else the plain string."""
    return str(getattr(state, "value", state) or "")


def _parse_model(model) -> tuple[str, str]:
    """The (name, version) of a deployment's model: an ARM id, `azureml:<name>:<version>` or a Model."""
    if model is None:
        return "", ""
    if not isinstance(model, str):
        return str(getattr(model, "name", "") or ""), str(getattr(model, "version", "") or "")
    match = _ARM_MODEL.search(model)
    if match:
        return match["name"], match["version"]
    parts = model.split(":")
    if len(parts) == 3 and parts[0] == "azureml":
        return parts[1], parts[2]
    return model, ""
