"""Storage clients for blob triggers: short retries, small download ranges, ETags without quotes."""
from __future__ import annotations

from azure.storage.blob import BlobServiceClient, LinearRetry

# Small download ranges keep memory flat when a function streams a big blob.
CHUNK_BYTES = 4 * 1024 * 1024
# The SDK default (exponential, 15 s first backoff, 10 tries) would stall the poll loop and
# a graceful stop for minutes while storage is down; the next poll retries anyway.
RETRY = {"backoff": 0.5, "retry_total": 3, "random_jitter_range": 0.2}


def service_client(connection_string: str) -> BlobServiceClient:
    """A blob service client with the short retries and download ranges above."""
    return BlobServiceClient.from_connection_string(
        connection_string, max_single_get_size=CHUNK_BYTES, max_chunk_get_size=CHUNK_BYTES,
        retry_policy=LinearRetry(**RETRY),
    )


def plain_etag(value: str | None) -> str:
    """An ETag without its quotes, as receipts and poison messages store it."""
    return (value or "").strip('"')
