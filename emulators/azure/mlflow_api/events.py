"""Microsoft.MachineLearningServices.ModelRegistered, as Azure ML's system topic publishes it
(Event Grid schema; data: modelName, modelVersion, modelTags, modelProperties)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

MODEL_REGISTERED = "Microsoft.MachineLearningServices.ModelRegistered"


def model_registered(workspace_id: str, version: dict[str, Any]) -> dict[str, Any]:
    """The event for one MLflow model version (the backing server's JSON)."""
    name, number = version["name"], str(version["version"])
    return {
        "id": str(uuid.uuid4()),
        "topic": workspace_id,
        "subject": f"models/{name}:{number}",
        "eventType": MODEL_REGISTERED,
        "eventTime": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "data": {"modelName": name, "modelVersion": number,
                 "modelTags": {t["key"]: t["value"] for t in version.get("tags", [])},
                 "modelProperties": {}},
        "dataVersion": "2",
        "metadataVersion": "1",
    }
