"""host.json ``extensions.queues``: the queue trigger settings and the real host's defaults."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .settings import nested, timespan_seconds

# The real host's bounds: the Storage API returns at most 32 messages per request.
MAX_BATCH_SIZE = 32
# The shortest wait between polls; the back-off doubles from here up to maxPollingInterval.
MIN_POLLING_INTERVAL = 0.1
# Messages are received invisible for this long and renewed at half of it while a function runs.
RECEIVE_VISIBILITY = 600.0
ENCODINGS = ("base64", "none")


@dataclass(frozen=True)
class QueueOptions:
    """The queue trigger behaviour; defaults are the Functions host's (extension 5.x)."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"
    receive_visibility: float = RECEIVE_VISIBILITY

    @property
    def max_concurrency(self) -> int:
        """Messages one function may run at once: a new batch is fetched at the threshold."""
        return self.batch_size + self.new_batch_threshold

    @classmethod
    def from_host_json(cls, host_json: Mapping[str, Any], receive_visibility: float | None = None) -> "QueueOptions":
        """Read and check ``extensions.queues``; a bad value raises ValueError naming it."""
        section = nested(host_json, "extensions", "queues", default={}) or {}

        def get(key: str, default: Any) -> Any:
            return nested(section, key, default=default)

        batch_size = _integer(get("batchSize", 16), "batchSize", 1, MAX_BATCH_SIZE)
        threshold = _integer(get("newBatchThreshold", batch_size // 2), "newBatchThreshold", 0, 10_000)
        polling = timespan_seconds(get("maxPollingInterval", "00:01:00"), "extensions.queues.maxPollingInterval")
        if polling < MIN_POLLING_INTERVAL:
            raise ValueError(f"host.json extensions.queues.maxPollingInterval must be at least "
                             f"{int(MIN_POLLING_INTERVAL * 1000)} ms, got {polling * 1000:.0f} ms")
        visibility = timespan_seconds(get("visibilityTimeout", "00:00:00"), "extensions.queues.visibilityTimeout")
        if not 0 <= visibility <= 7 * 24 * 3600:
            raise ValueError("host.json extensions.queues.visibilityTimeout must be between 0 and 7 days")
        encoding = str(get("messageEncoding", "base64")).lower()
        if encoding not in ENCODINGS:
            raise ValueError(f"host.json extensions.queues.messageEncoding must be one of {ENCODINGS}, got {encoding!r}")
        return cls(
            batch_size=batch_size,
            new_batch_threshold=threshold,
            max_polling_interval=polling,
            visibility_timeout=visibility,
            max_dequeue_count=_integer(get("maxDequeueCount", 5), "maxDequeueCount", 1, 10_000),
            message_encoding=encoding,
            receive_visibility=receive_visibility or RECEIVE_VISIBILITY,
        )


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"host.json extensions.queues.{name} must be an integer in [{low}, {high}], got {value!r}")
    return value
