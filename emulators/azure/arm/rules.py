"""Azure ML's validation rules for online endpoints and deployments, as 400/409 UserErrors
(Azure ML's code; the rule broken in innerError.code): names, the number of deployments,
live traffic (whole percentages summing to 0 or 100 over existing deployments), mirror traffic
(at most 50% per deployment and in total, never to a deployment with live traffic), the model
reference, and deleting a deployment that still takes traffic."""
from __future__ import annotations

import re
from typing import Any

from emulators.azure.http import HttpError

from .common import UserError

MAX_DEPLOYMENTS = 20
MAX_MIRROR_PERCENT = 50
# azure-ai-ml's own rule (azure/ai/ml/constants/_endpoint.py: NAME_REGEX_PATTERN
# ^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$, MIN_NAME_LENGTH 3, MAX_NAME_LENGTH 32); "--" is allowed.
_ENDPOINT_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]")
_DEPLOYMENT_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]")
_MODEL_ID = re.compile(r"(?:azureml:)?/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                       r"Microsoft\.MachineLearningServices/workspaces/[^/]+/models/(?P<name>[^/]+)"
                       r"/versions/(?P<version>[^/]+)", re.I)
_MODEL_SHORT = re.compile(r"azureml:(?P<name>[^:/@]+):(?P<version>[^:/@]+)")


def bad_argument(message: str, **parameters: str) -> UserError:
    return UserError(400, message, "BadArgument", **parameters)


def check_endpoint_name(name: str) -> None:
    if not _ENDPOINT_NAME.fullmatch(name):
        raise bad_argument(f"Invalid endpoint name '{name}': it must be 3-32 characters, start with a letter, "
                           "contain only letters, digits and '-', and not end with '-'.", endpointName=name)


def check_deployment_name(name: str) -> None:
    if not _DEPLOYMENT_NAME.fullmatch(name):
        raise bad_argument(f"Invalid deployment name '{name}': it must be 3-32 characters, start with a letter, "
                           "contain only letters, digits and '-', and not end with '-'.", deploymentName=name)


def check_deployment_count(endpoint: str, existing: int) -> None:
    if existing >= MAX_DEPLOYMENTS:
        raise bad_argument(f"Endpoint {endpoint} already has the maximum number of deployments "
                           f"({MAX_DEPLOYMENTS}). Delete a deployment before creating another.",
                           endpointName=endpoint, limit=str(MAX_DEPLOYMENTS))


def _percentages(endpoint: str, split: Any, what: str) -> dict[str, int]:
    if split is None:
        return {}
    if not isinstance(split, dict):
        raise bad_argument(f"{what} of endpoint {endpoint} must be a map of deployment name to percentage.")
    result = {}
    for name, value in split.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise bad_argument(f"{what} of deployment {name} in endpoint {endpoint} must be a whole percentage "
                               f"between 0 and 100, got {value!r}.", endpointName=endpoint, deploymentName=name)
        result[name] = value
    return result


def check_traffic(endpoint: str, traffic: Any, mirror: Any, deployments: dict[str, str]) -> tuple[dict, dict]:
    """(live, mirror) as sent, when they follow the rules; `deployments` maps each existing
    deployment of the endpoint to its provisioning state."""
    live = _percentages(endpoint, traffic, "Traffic")
    mirrored = _percentages(endpoint, mirror, "Mirror traffic")
    known = {name.lower(): state for name, state in deployments.items()}
    for name, percent in list(live.items()) + list(mirrored.items()):
        if name.lower() not in known:
            raise bad_argument(f"Deployment {name} in the traffic of endpoint {endpoint} does not exist. "
                               f"Existing deployments: {', '.join(sorted(deployments)) or 'none'}.",
                               endpointName=endpoint, deploymentName=name)
        if percent and known[name.lower()] == "Deleting":
            raise UserError(409, f"Deployment {name} of endpoint {endpoint} is being deleted and cannot take "
                            "traffic.", "Conflict", endpointName=endpoint, deploymentName=name)
    total = sum(live.values())
    if total not in (0, 100):
        raise bad_argument(f"Traffic of endpoint {endpoint} must sum to 0 or 100, got {total}.",
                           endpointName=endpoint, trafficSum=str(total))
    for name, percent in mirrored.items():
        if percent > MAX_MIRROR_PERCENT:
            raise bad_argument(f"Mirror traffic of deployment {name} in endpoint {endpoint} is {percent}%; "
                               f"at most {MAX_MIRROR_PERCENT}% can be mirrored.", endpointName=endpoint,
                               deploymentName=name)
        if percent and live.get(name, 0):
            raise bad_argument(f"Deployment {name} of endpoint {endpoint} takes live traffic "
                               f"({live[name]}%) and cannot also receive mirror traffic.",
                               endpointName=endpoint, deploymentName=name)
    if sum(mirrored.values()) > MAX_MIRROR_PERCENT:
        raise bad_argument(f"Mirror traffic of endpoint {endpoint} sums to {sum(mirrored.values())}%; at most "
                           f"{MAX_MIRROR_PERCENT}% can be mirrored in total.", endpointName=endpoint)
    return live, mirrored


def check_deletable(endpoint: str, deployment: str, traffic: dict, mirror: dict) -> None:
    live = {k.lower(): v for k, v in traffic.items()}.get(deployment.lower(), 0)
    mirrored = {k.lower(): v for k, v in mirror.items()}.get(deployment.lower(), 0)
    if live or mirrored:
        raise bad_argument(f"Deployment {deployment} of endpoint {endpoint} has {live}% live and {mirrored}% "
                           "mirror traffic and cannot be deleted. Set its traffic to 0 before deleting it.",
                           endpointName=endpoint, deploymentName=deployment)


def check_data_collector(endpoint: str, deployment: str, collector: Any) -> None:
    """properties.dataCollector (mfe.json DataCollector): an object whose `collections` is a map of
    collection name to Collection object."""
    collections = collector.get("collections") if isinstance(collector, dict) else None
    if collector is not None and (not isinstance(collector, dict) or not isinstance(collections, (dict, type(None)))
                                  or not all(isinstance(v, dict) for v in (collections or {}).values())):
        raise bad_argument(f"The dataCollector of deployment {deployment} in endpoint {endpoint} must be an object "
                           "whose collections map each collection name to an object.",
                           endpointName=endpoint, deploymentName=deployment)


def model_reference(model: Any) -> tuple[str, str]:
    """(name, version) of the deployment's model: an ARM id or azureml:<name>:<version>."""
    text = model if isinstance(model, str) else ""
    match = _MODEL_ID.fullmatch(text) or _MODEL_SHORT.fullmatch(text)
    if not match:
        raise bad_argument(f"The deployment's model '{model}' is not a model version reference "
                           "(azureml:<name>:<version> or the model version's resource id).")
    return match.group("name"), match.group("version")


def check_model_exists(registry: Any, workspace: str, name: str, version: str, backing: str = "") -> None:
    """Through H4's registry (context.extras["registry"]); nothing to check without one. When the
    registry cannot answer (its backing MLflow server `backing` is down or failing): 503."""
    if registry is None:
        return
    try:
        found = registry.get_version(name, version)
    except Exception as error:  # noqa: BLE001 - OSError when unreachable, the registry's own error on a 5xx
        raise HttpError(503, "ServiceUnavailable", f"The model registry could not look up {name}:{version}: its "
                        f"backing MLflow server {backing or '(unknown)'} did not answer ({error}).",
                        headers={"Retry-After": "5"})
    if found is None:
        raise UserError(400, f"Model {name}:{version} not found in workspace {workspace}.", "ResourceNotFound",
                        modelName=name, modelVersion=version, workspaceName=workspace)
