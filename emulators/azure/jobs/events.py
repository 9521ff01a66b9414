"""Azure ML's run events as Event Grid delivers them from the workspace's system topic:
Microsoft.MachineLearningServices.RunStatusChanged (every status change) and RunCompleted (the
job completed). Data: experimentId, experimentName, runId, runType, runTags, runProperties, and
runStatus on RunStatusChanged only (learn.microsoft.com: MachineLearningServicesRunStatusChangedEventData
has it, MachineLearningServicesRunCompletedEventData has not); subject
experiments/<experimentId>/runs/<runId>."""
from __future__ import annotations

import uuid
from typing import Any

from emulators.azure.system_events import system_event

STATUS_CHANGED = "Microsoft.MachineLearningServices.RunStatusChanged"
COMPLETED = "Microsoft.MachineLearningServices.RunCompleted"
RUN_TYPE = "azureml.scriptrun"  # run history's type of a command job's run
DATA_VERSION = "2"
METADATA_VERSION = "1"


def experiment_id(workspace_id: str, experiment_name: str) -> str:
    """Azure ML's experiment ids are GUIDs; the emulator's is stable per workspace and name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{workspace_id.lower()}/experiments/{experiment_name}"))


def run_event(event_type: str, workspace_id: str, job: dict[str, Any], status: str,
              experiment: str | None = None) -> dict[str, Any]:
    """One Event Grid event (Event Grid schema) about the job's run."""
    properties = job["properties"]
    experiment_name = properties.get("experimentName") or "Default"
    experiment = experiment or experiment_id(workspace_id, experiment_name)
    data = {
        "experimentId": experiment,
        "experimentName": experiment_name,
        "runId": job["name"],
        "runType": RUN_TYPE,
        "runTags": dict(properties.get("tags") or {}),
        "runProperties": {str(k): str(v) for k, v in (properties.get("properties") or {}).items()},
        **({"runStatus": status} if event_type == STATUS_CHANGED else {}),
    }
    return system_event(workspace_id, f"experiments/{experiment}/runs/{job['name']}", event_type, data,
                        DATA_VERSION, METADATA_VERSION)


def events_for(workspace_id: str, job: dict[str, Any], status: str, experiment: str | None = None) -> list[dict]:
    """RunStatusChanged, and RunCompleted after it when the job completed."""
    events = [run_event(STATUS_CHANGED, workspace_id, job, status, experiment)]
    if status == "Completed":
        events.append(run_event(COMPLETED, workspace_id, job, status, experiment))
    return events
