"""Dead letters: an undeliverable event written as a blob of the subscription's dead-letter
container, named and shaped as Event Grid writes them:
`<TOPIC NAME>/<SUBSCRIPTION NAME>/<y>/<m>/<d>/<h>/<guid>.json` (upper case, UTC, the date and
hour not zero-padded), the body a JSON array of the event with deadLetterReason,
deliveryAttempts, lastDeliveryOutcome, lastHttpStatusCode (when there was one), publishTime and
lastDeliveryAttemptTime."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

REASON_MAX_ATTEMPTS = "MaxDeliveryAttemptsExceeded"
REASON_TTL = "TimeToLiveExceeded"
REASON_BAD_REQUEST = "UndeliverableDueToHttpBadRequest"  # a 400
REASON_CLIENT_ERROR = "UndeliverableDueToClientError"  # the other codes Event Grid does not retry


def timestamp(epoch: float) -> str:
    """Event Grid's UTC time format (7 fractional digits, Z)."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def blob_name(topic_name: str, subscription: str, epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return (f"{topic_name.upper()}/{subscription.upper()}/"
            f"{moment.year}/{moment.month}/{moment.day}/{moment.hour}/{uuid.uuid4()}.json")


def dead_letter_body(event: dict[str, Any], reason: str, attempts: int, outcome: str, status: int | None,
                     published: float, last_attempt: float | None) -> list[dict[str, Any]]:
    entry = {**event, "deadLetterReason": reason, "deliveryAttempts": attempts, "lastDeliveryOutcome": outcome}
    if status is not None:
        entry["lastHttpStatusCode"] = status
    entry["publishTime"] = timestamp(published)
    entry["lastDeliveryAttemptTime"] = timestamp(last_attempt if last_attempt is not None else published)
    return [entry]


class DeadLetterWriter:
    """Writes dead letters into Azurite through the emulator's own blob client."""

    def __init__(self, blob_service: Callable[[], Any]) -> None:
        self._blob_service = blob_service

    def write(self, container: str, name: str, body: list[dict[str, Any]]) -> None:
        from azure.storage.blob import ContentSettings

        client = self._blob_service().get_blob_client(container, name)
        client.upload_blob(json.dumps(body).encode(), overwrite=True,
                           content_settings=ContentSettings(content_type="application/json"))
