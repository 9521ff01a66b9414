"""Parse incoming event bodies into domain commands; malformed input → InvalidInput naming the problem."""
from __future__ import annotations

import json

from shared.domain.errors import InvalidInput
from shared.domain.models import ModelRegistered


def parse_json_object(body: bytes, what: str) -> dict:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"{what}: body is not valid JSON ({error.__class__.__name__})") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what}: body must be a JSON object")
    return value


def parse_mlflow_webhook(payload: dict, delivery_id: str) -> ModelRegistered | None:
    """An MLflow registry webhook payload → ModelRegistered, or None for other entity/action pairs."""
    entity, action = payload.get("entity"), payload.get("action")
    if not isinstance(entity, str) or not isinstance(action, str):
        raise InvalidInput("MLflow webhook: 'entity' and 'action' are required strings")
    if (entity, action) != ("model_version", "created"):
        return None
    data = payload.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("MLflow webhook: 'data' must be an object")
    name = _required_text(data, "name", "MLflow webhook data")
    version = _version(data.get("version"), "MLflow webhook data.version")
    tags = data.get("tags") or {}
    if not isinstance(tags, dict):
        raise InvalidInput("MLflow webhook: data.tags must be an object")
    return ModelRegistered(
        model_name=name,
        version=version,
        source="mlflow-webhook",
        delivery_id=delivery_id,
        run_id=data.get("run_id") or None,
        model_uri=data.get("source") or None,
        tags={str(k): str(v) for k, v in tags.items()},
    )


def _required_text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: '{key}' is required and must be a non-empty string")
    return value.strip()


def _version(value, where: str) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"{where}: expected a positive integer version; got {value!r}")
    return str(int(text))
