"""Microsoft.MachineLearningServices.ModelRegistered, as Azure ML's system topic publishes it
(Event Grid schema; data: modelName, modelVersion, modelTags, modelProperties)."""
from __future__ import annotations

from typing import Any

from emulators.azure.system_events import system_event

MODEL_REGISTERED = "Microsoft.MachineLearningServices.ModelRegistered"


def model_registered(workspace_id: str, version: dict[str, Any]) -> dict[str, Any]:
    """The event for one MLflow model version (the backing server's JSON)."""
    name, number = version["name"], str(version["version"])
    return system_event(workspace_id, f"models/{name}:{number}", MODEL_REGISTERED,
                        {"modelName": name, "modelVersion": number,
                         "modelTags": {t["key"]: t["value"] for t in version.get("tags", [])},
                         "modelProperties": {}})
