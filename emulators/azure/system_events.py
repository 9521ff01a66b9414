"""The Event Grid schema envelope of an event from one of Azure's system topics (the workspace's, the
storage account's): id, topic, subject, eventType, eventTime, data, dataVersion, metadataVersion."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any


def system_event(topic: str, subject: str, event_type: str, data: dict[str, Any],
                 data_version: str = "2", metadata_version: str = "1") -> dict[str, Any]:
    """One event, with a fresh id and the current time as Event Grid writes it (UTC, "Z")."""
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "subject": subject,
        "eventType": event_type,
        "eventTime": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "data": data,
        "dataVersion": data_version,
        "metadataVersion": metadata_version,
    }
