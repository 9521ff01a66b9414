"""Queue messages as the host hands them over: names checked, bodies decoded, kept invisible while they run."""
from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from typing import Any

from azure.storage.queue import LinearRetry, QueueClient

from .blob_storage import RETRY

log = logging.getLogger("devhost")

POISON_SUFFIX = "-poison"
_QUEUE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")


def checked_queue_name(name: str) -> str:
    """A Storage queue name (3-63 lowercase letters, digits, single inner hyphens), else ValueError."""
    if not _QUEUE_NAME.fullmatch(name):
        raise ValueError(f"invalid queue name {name!r}: 3-63 lowercase letters, digits and single hyphens, "
                         "starting and ending with a letter or digit")
    return name


def queue_client(connection_string: str, name: str) -> QueueClient:
    """A client that reads and writes message text as stored (the host does the decoding itself)."""
    return QueueClient.from_connection_string(connection_string, name, retry_policy=LinearRetry(**RETRY))


def decode_body(content: str | None, encoding: str) -> bytes:
    """The message body the function gets: base64-decoded (the default) or the text as UTF-8.

    Raises ValueError for text that is not base64, as the real host fails to decode it.
    """
    text = content or ""
    if encoding == "none":
        return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"message is not base64 ({error}); check host.json extensions.queues.messageEncoding") from None


def trigger_value(message: Any, body: bytes) -> Any:
    """The ``func.QueueMessage`` the Python worker builds from a received message."""
    from azure.functions.queue import QueueMessage

    return QueueMessage(
        id=message.id,
        body=body,
        dequeue_count=message.dequeue_count,
        expiration_time=message.expires_on,
        insertion_time=message.inserted_on,
        time_next_visible=message.next_visible_on,
        pop_receipt=message.pop_receipt,
    )


class Invisibility:
    """Keeps one received message invisible while its function runs, as the real host does.

    The message was received invisible for ``seconds``; every ``seconds / 2`` its visibility
    is extended again. Each update gives a new pop receipt: ``finish()`` stops renewing and
    returns the latest one, which deleting or releasing the message needs.
    """

    def __init__(self, queue: QueueClient, message: Any, seconds: int):
        self._queue = queue
        self._message_id = message.id
        self._seconds = seconds
        self._pop_receipt = message.pop_receipt
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.renewals = 0
        self._thread = threading.Thread(target=self._renew, name=f"visibility-{message.id[:8]}", daemon=True)
        self._thread.start()

    def finish(self) -> str:
        """Stop renewing; the pop receipt to delete or release the message with."""
        self._done.set()
        with self._lock:
            return self._pop_receipt

    def _renew(self) -> None:
        while not self._done.wait(self._seconds / 2):
            with self._lock:
                if self._done.is_set():
                    return
                try:
                    updated = self._queue.update_message(
                        self._message_id, pop_receipt=self._pop_receipt, visibility_timeout=self._seconds)
                except Exception as error:  # noqa: BLE001 - storage down: try again at the next half period
                    log.warning("Keeping queue message %s invisible failed (will retry): %s", self._message_id, error)
                    continue
                self._pop_receipt = updated.pop_receipt
                self.renewals += 1
