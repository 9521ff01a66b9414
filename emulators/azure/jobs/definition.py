"""A command job's definition as ARM takes it: the checks on a PUT (name, job type, the command's
input bindings, the code and environment it names) and the stored body (mfe.json JobBase with
CommandJob properties; status and services are the service's, read-only to clients).

A PUT of a job that exists is accepted when it defines the same job (what runs: command, code,
environment, compute, inputs, outputs, environment variables, experiment) and may then change
the display name, description and tags; a different definition is a 409, as Azure ML refuses to
change a submitted job.
"""
from __future__ import annotations

import re
from typing import Any

from emulators.azure.arm.common import PROVIDER, UserError
from emulators.azure.http import HttpError

NAME_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}"
PORT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # an input's or output's key (a folder name on disk too)
BINDING = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")
DEFINING = ("jobType", "command", "codeId", "environmentId", "computeId", "inputs", "outputs",
            "environmentVariables", "experimentName", "distribution", "resources")
MUTABLE = ("displayName", "description", "tags")
TERMINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
DEFAULT_EXPERIMENT = "Default"


def check_name(name: str) -> None:
    if not re.fullmatch(NAME_PATTERN, name or ""):
        raise UserError(400, f"Invalid job name '{name}': a job name starts with a letter or digit and has "
                             "at most 255 letters, digits, '-' or '_'.", "InvalidJobName", jobName=name)


def check_properties(name: str, properties: dict[str, Any], store) -> None:
    """ARM's 400s for a command job it would not run."""
    job_type = properties.get("jobType")
    if job_type != "Command":
        raise UserError(400, f"Job type '{job_type}' is not supported by this workspace's emulator; "
                             "submit a Command job.", "UnsupportedJobType", jobType=str(job_type))
    command = properties.get("command")
    if not isinstance(command, str) or not command.strip():
        raise UserError(400, f"Job {name}: 'command' is required for a command job.", "RequiredField", field="command")
    _check_port_names(name, properties)
    _check_bindings(name, command, properties)
    for field in ("codeId", "environmentId"):
        _check_text(name, field, properties.get(field))
    _check_reference(name, "code", properties.get("codeId"), store, required=False)
    environment = properties.get("environmentId")
    if not environment:
        raise UserError(400, f"Job {name}: 'environmentId' is required.", "RequiredField", field="environmentId")
    if environment.lower().startswith("/subscriptions/"):
        _check_reference(name, "environment", environment, store, required=True)


def _check_port_names(name: str, properties: dict[str, Any]) -> None:
    for kind in ("inputs", "outputs"):
        ports = properties.get(kind) or {}
        if not isinstance(ports, dict):
            raise UserError(400, f"Job {name}: '{kind}' must be an object of named {kind}.", "InvalidFieldType",
                            field=kind)
        for key in ports:
            if not PORT_NAME.fullmatch(key):
                raise UserError(400, f"Job {name}: the {kind[:-1]} name '{key}' is invalid: it starts with a letter "
                                     "or '_' and has only letters, digits and '_'.", "InvalidInputOutputName",
                                field=f"{kind}.{key}")


def _check_text(name: str, field: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise UserError(400, f"Job {name}: '{field}' must be a string (an asset id), not {type(value).__name__}.",
                        "InvalidFieldType", field=field)


def _check_bindings(name: str, command: str, properties: dict[str, Any]) -> None:
    for kind, key in BINDING.findall(command):
        if key not in (properties.get(kind) or {}):
            raise UserError(400, f"Job {name}: the command uses ${{{{{kind}.{key}}}}} but the job defines no "
                                 f"{kind[:-1]} '{key}'.", "InvalidCommandBinding", binding=f"{kind}.{key}")


def _check_reference(name: str, kind: str, arm_id: str | None, store, required: bool) -> None:
    if not arm_id:
        return
    if store.get(arm_id) is None:
        raise UserError(400, f"Job {name}: the {kind} '{arm_id}' does not exist in this workspace.",
                        "AssetNotFound", assetId=str(arm_id))


def new_body(job_id: str, name: str, sent: dict[str, Any], system_data: dict[str, Any],
             services: dict[str, Any]) -> dict[str, Any]:
    """The stored job: what was sent, with the service's fields (status NotStarted, services)."""
    properties = dict(sent["properties"])
    properties.setdefault("experimentName", DEFAULT_EXPERIMENT)
    properties.setdefault("displayName", name)
    properties.setdefault("tags", {})
    properties.setdefault("properties", {})
    properties.setdefault("inputs", {})
    properties.setdefault("outputs", {})
    properties.setdefault("environmentVariables", {})
    properties.setdefault("isArchived", False)
    properties.update(status="NotStarted", services=services, parameters={})
    return {"id": job_id, "name": name, "type": f"{PROVIDER}/workspaces/jobs",
            "properties": properties, "systemData": system_data}


def same_definition(stored: dict[str, Any], sent: dict[str, Any]) -> bool:
    def defining(properties: dict[str, Any]) -> dict[str, Any]:
        values = {key: properties.get(key) or None for key in DEFINING}
        values["experimentName"] = properties.get("experimentName") or DEFAULT_EXPERIMENT
        return values

    return defining(stored["properties"]) == defining(sent["properties"])


def conflict(name: str) -> HttpError:
    return UserError(409, f"Job {name} already exists with a different definition; a submitted job cannot "
                          "be changed (only its display name, description and tags).", "JobAlreadyExists",
                     jobName=name)


def apply_mutable(stored: dict[str, Any], sent: dict[str, Any]) -> None:
    for key in MUTABLE:
        if sent["properties"].get(key) is not None:
            stored["properties"][key] = sent["properties"][key]
