"""MLflow registry webhook signatures: HMAC-SHA256 over "{delivery_id}.{timestamp}.{body}"."""
from __future__ import annotations

import base64
import hashlib
import hmac

from shared.domain.errors import Unauthorized


def mlflow_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_mlflow_signature(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    now_epoch: float,
    max_age_seconds: int,
) -> str:
    """Return the delivery id of a genuine, fresh delivery; raise Unauthorized otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    delivery_id = lowered.get("x-mlflow-delivery-id", "")
    timestamp = lowered.get("x-mlflow-timestamp", "")
    signature = lowered.get("x-mlflow-signature", "")
    if not (delivery_id and timestamp and signature):
        raise Unauthorized("unsigned delivery: X-MLflow-Delivery-Id, X-MLflow-Timestamp and X-MLflow-Signature are required")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise Unauthorized("X-MLflow-Timestamp is not an integer") from None
    if abs(now_epoch - sent_at) > max_age_seconds:
        raise Unauthorized(f"stale delivery: timestamp is more than {max_age_seconds}s from now")
    expected = mlflow_signature(secret, delivery_id, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Unauthorized("signature does not match")
    return delivery_id
