"""The event subscriptions infra/events.bicep deploys (through modules/blob-events.bicep and
modules/ml-events.bicep), read from those files: the second deployment's parameters come from
the emulator's config (and main.bicep's literal defaults for the model and experiment names),
its `maxDeliveryAttempts` / `eventTimeToLiveInMinutes` from their defaults."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.azure.context import EmulatorConfig
from emulators.azure.eventgrid import bicep

SUBSCRIPTION_TYPE = "microsoft.eventgrid/systemtopics/eventsubscriptions"
HOST = "\x00host\x00"  # stands for the Function App's defaultHostName until the URL is rebased


@dataclass
class Subscription:
    """One event subscription of a system topic, and its provisioning state."""

    name: str
    topic_name: str  # the system topic's name (dead-letter blob paths)
    topic: str  # the topic's source resource id, which events are published from
    endpoint_type: str  # WebHook | AzureFunction
    endpoint_url: str  # where deliveries are POSTed
    filter: dict[str, Any]
    delivery_schema: str = "EventGridSchema"
    max_delivery_attempts: int = 30
    ttl_minutes: int = 1440
    dead_letter_container: str | None = None
    max_events_per_batch: int = 1
    function: str | None = None  # AzureFunction destinations: the function's name
    state: str = "Creating"  # provisioningState: Creating → Succeeded | Failed
    failure: str = ""  # why it Failed
    activated: threading.Event = field(default_factory=threading.Event, repr=False)

    def summary(self) -> dict[str, Any]:
        """What the control API shows (the endpoint without its key)."""
        return {"name": self.name, "topic": self.topic, "topicName": self.topic_name,
                "endpointType": self.endpoint_type, "endpoint": re.sub(r"code=[^&]*", "code=***", self.endpoint_url),
                "function": self.function, "filter": self.filter, "eventDeliverySchema": self.delivery_schema,
                "retryPolicy": {"maxDeliveryAttempts": self.max_delivery_attempts,
                                "eventTimeToLiveInMinutes": self.ttl_minutes},
                "deadLetterContainer": self.dead_letter_container,
                "provisioningState": self.state, "failure": self.failure}


def load(config: EmulatorConfig, parameters: dict[str, Any] | None = None) -> list[Subscription]:
    """Every subscription events.bicep deploys, for this emulator (`parameters` override events.bicep's)."""
    infra = Path(config.repo_root) / "infra"
    values = _events_parameters(config, infra)
    values.update(parameters or {})
    sources = {str(values["storageTopicName"]).lower(): config.storage_account_id,
               str(values["mlSystemTopicName"]).lower(): config.workspace_id}
    top = bicep.parse_file(infra / "events.bicep")
    env = _bind(top, values, config)
    found = []
    for module in (d for d in top if d.kind == "module"):
        params = bicep.evaluate(module.value.get("params", {}), _resolver(env, {}, config))
        found += _module_subscriptions(infra / module.type, params, sources, config)
    return found


def _events_parameters(config: EmulatorConfig, infra: Path) -> dict[str, Any]:
    """events.bicep's parameters as events.bicepparam would read them from main.bicep's outputs."""
    main_defaults = dict(re.findall(r"^param (\w+) \w+ = '([^'$]*)'$", (infra / "main.bicep").read_text(), re.M))
    return {"functionAppName": "functions-host", "storageAccountName": config.storage_account,
            "storageTopicName": f"{config.storage_account}-events", "dataContainer": config.data_container,
            "deadLetterContainer": config.dead_letter_container, "mlWorkspaceResourceGroup": config.resource_group,
            "mlSystemTopicName": f"{config.workspace}-events",
            "modelName": main_defaults.get("modelName", ""), "experimentName": main_defaults.get("amlExperiment", ""),
            "blobsExtensionKey": config.blobs_extension_key}


def _bind(declarations: list[bicep.Declaration], values: dict[str, Any], config: EmulatorConfig) -> dict[str, Any]:
    """Params (given values, else defaults) and vars, evaluated in order."""
    env: dict[str, Any] = {}
    for declaration in declarations:
        if declaration.kind == "param":
            env[declaration.name] = values.get(declaration.name, declaration.value)
        elif declaration.kind == "var":
            env[declaration.name] = bicep.evaluate(declaration.value, _resolver(env, {}, config))
    return env


def _module_subscriptions(path: Path, params: dict[str, Any], sources: dict[str, str],
                          config: EmulatorConfig) -> list[Subscription]:
    declarations = bicep.parse_file(path)
    env = _bind(declarations, params, config)
    existing = {d.name: d for d in declarations if d.kind == "resource" and d.existing}
    found = []
    for declaration in declarations:
        if declaration.kind != "resource" or declaration.type.split("@")[0].lower() != SUBSCRIPTION_TYPE:
            continue
        body = bicep.evaluate(declaration.value, _resolver(env, existing, config))
        parent = existing[body["parent"].name]
        topic_name = bicep.evaluate(parent.value["name"], _resolver(env, {}, config))
        found.append(_subscription(body, topic_name, sources.get(topic_name.lower(), ""), config))
    return found


def _subscription(body: dict[str, Any], topic_name: str, topic: str, config: EmulatorConfig) -> Subscription:
    properties = body["properties"]
    destination = properties["destination"]
    endpoint_type = destination["endpointType"]
    function = None
    if endpoint_type == "WebHook":
        url = destination["properties"]["endpointUrl"].replace(f"https://{HOST}", config.host_url.rstrip("/"))
    elif endpoint_type == "AzureFunction":
        function = destination["properties"]["resourceId"].rsplit("/functions/", 1)[1]
        url = (f"{config.host_url.rstrip('/')}/runtime/webhooks/eventgrid?functionName={function}"
               f"&code={config.eventgrid_extension_key}")
    else:
        raise ValueError(f"subscription {body['name']}: endpoint type {endpoint_type} is not emulated")
    dead_letter = (properties.get("deadLetterWithResourceIdentity", {}).get("deadLetterDestination")
                   or properties.get("deadLetterDestination") or {})
    retry = properties.get("retryPolicy") or {}
    return Subscription(
        name=body["name"], topic_name=topic_name, topic=topic, endpoint_type=endpoint_type, endpoint_url=url,
        filter=properties.get("filter") or {}, delivery_schema=properties.get("eventDeliverySchema", "EventGridSchema"),
        max_delivery_attempts=int(retry.get("maxDeliveryAttempts", 30)),
        ttl_minutes=int(retry.get("eventTimeToLiveInMinutes", 1440)),
        dead_letter_container=(dead_letter.get("properties") or {}).get("blobContainerName"),
        max_events_per_batch=int(destination["properties"].get("maxEventsPerBatch", 1)), function=function)


def _resolver(env: dict[str, Any], existing: dict[str, bicep.Declaration], config: EmulatorConfig):
    def resolve(node):
        if isinstance(node, bicep.Call):
            args = [bicep.evaluate(a, resolve) for a in node.args]
            if node.name == "resourceId":
                return (f"/subscriptions/{config.subscription_id}/resourceGroups/{config.resource_group}"
                        f"/providers/{args[0]}/{'/'.join(map(str, args[1:]))}")
            raise ValueError(f"bicep function {node.name}() is not evaluated here")
        if node.name in existing and node.path == ("properties", "defaultHostName"):
            return HOST
        if node.name in existing and not node.path:
            return node  # a resource symbol (a subscription's parent)
        if node.name not in env:
            raise ValueError(f"bicep: {node.name} is not defined")
        value = env[node.name]
        for step in node.path:
            value = value[step]
        return value

    return resolve
