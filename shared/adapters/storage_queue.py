"""StepQueue on an Azure Storage queue (Azurite locally), base64-encoded as the Functions host expects."""
from __future__ import annotations

import logging
import threading

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from shared.adapters.blob_storage import AZURITE_DEVELOPMENT_STORAGE

log = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 7 * 24 * 3600


def queue_client(connection: str, queue_name: str) -> QueueClient:
    """A client from a connection string, or from an account's blob URL with DefaultAzureCredential."""
    encode = TextBase64EncodePolicy()
    if connection.startswith("https://"):
        from azure.identity import DefaultAzureCredential

        account_url = connection.replace(".blob.", ".queue.", 1)
        return QueueClient(account_url, queue_name, credential=DefaultAzureCredential(), message_encode_policy=encode)
    if connection.strip() == "UseDevelopmentStorage=true":
        connection = AZURITE_DEVELOPMENT_STORAGE
    return QueueClient.from_connection_string(connection, queue_name, message_encode_policy=encode)


class StorageStepQueue:
    def __init__(self, client: QueueClient):
        self.client = client
        self._ready = False
        self._lock = threading.Lock()

    def enqueue(self, body: str, delay_seconds: float = 0) -> None:
        self._ensure_queue()
        delay = max(0, min(int(round(delay_seconds)), MAX_DELAY_SECONDS))
        self.client.send_message(body, visibility_timeout=delay or None)

    def _ensure_queue(self) -> None:
        if self._ready:
            return
        with self._lock:
            try:
                self.client.create_queue()
            except ResourceExistsError:
                pass
            self._ready = True
