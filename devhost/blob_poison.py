"""The blob triggers' poison queue: where a blob goes after ``poisonBlobThreshold`` failed tries."""
from __future__ import annotations

import base64
import json
from typing import Any

from azure.core.exceptions import ResourceExistsError

from .blob_storage import RETRY

POISON_QUEUE = "webjobs-blobtrigger-poison"


def send_poison_message(connection_string: str, function_name: str, container: str, blob_name: str,
                        etag: str, blob_type: str) -> None:
    """Queue the message the real host sends for a poisoned blob (creating the queue if needed)."""
    from azure.storage.queue import LinearRetry as QueueRetry
    from azure.storage.queue import QueueClient, TextBase64EncodePolicy

    message = {
        "Type": "BlobTrigger",
        "FunctionId": f"Host.Functions.{function_name}",
        "BlobType": blob_type,
        "ContainerName": container,
        "BlobName": blob_name,
        "ETag": etag,
    }
    queue = QueueClient.from_connection_string(
        connection_string, POISON_QUEUE, message_encode_policy=TextBase64EncodePolicy(),
        retry_policy=QueueRetry(**RETRY),
    )
    try:
        queue.create_queue()
    except ResourceExistsError:
        pass
    queue.send_message(json.dumps(message))


def decode_poison_message(content: str) -> dict[str, Any]:
    """Read a poison message (base64 JSON, the Functions queue default) - for tools and tests."""
    return json.loads(base64.b64decode(content))
