"""Parse incoming event bodies into domain commands; malformed input → InvalidInput naming the problem."""
from __future__ import annotations

from shared.domain.errors import InvalidInput
from shared.domain.models import ModelRegistered


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


# Far beyond any real version (the repositories bound those); it only keeps int() from the
# interpreter's 4,300-digit limit, so a huge number is a reason, not a crash.
MAX_VERSION_DIGITS = 1000


def _version(value, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value) if 0 < value < 10**MAX_VERSION_DIGITS else ""
    text = value.strip() if isinstance(value, str) else ""
    # ASCII digits only: str.isdigit() accepts '²', which int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_VERSION_DIGITS or int(text) < 1:
        shown = value[:40] if isinstance(value, str) else value if isinstance(value, (int, float)) or value is None \
            else type(value).__name__
        raise InvalidInput(f"{where}: expected a positive integer version of at most {MAX_VERSION_DIGITS} digits; "
                           f"got {shown!r}")
    return str(int(text))


MODEL_REGISTERED = "Microsoft.MachineLearningServices.ModelRegistered"


def parse_model_registered_event(event: dict) -> ModelRegistered | None:
    """An Event Grid (or CloudEvents) ModelRegistered event → ModelRegistered; None for other event types.

    Both spellings of the data keys occur: PascalCase with an integer version (the docs) and
    camelCase with a string version (SDK test payloads). The subject `models/<name>:<version>`
    fills in what the data lacks.
    """
    if not isinstance(event, dict):
        raise InvalidInput("event must be a JSON object")
    event_type = event.get("eventType") or event.get("type")
    if not isinstance(event_type, str):
        raise InvalidInput("event has no eventType (Event Grid) or type (CloudEvents)")
    if event_type != MODEL_REGISTERED:
        return None
    data = event.get("data")
    if not isinstance(data, dict):
        raise InvalidInput(f"{MODEL_REGISTERED}: 'data' must be an object")
    subject_name, subject_version = _subject_model(event.get("subject"))
    name = _first(data, "ModelName", "modelName") or subject_name
    version = _first(data, "ModelVersion", "modelVersion") or subject_version
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{MODEL_REGISTERED}: data.ModelName (or modelName) is required")
    tags = _first(data, "ModelTags", "modelTags") or {}
    if not isinstance(tags, dict):
        raise InvalidInput(f"{MODEL_REGISTERED}: data.ModelTags must be an object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidInput("event has no id")
    return ModelRegistered(
        model_name=name.strip(),
        version=_version(version, f"{MODEL_REGISTERED} data.ModelVersion"),
        source="eventgrid",
        delivery_id=event_id,
        tags={str(k): str(v) for k, v in tags.items()},
    )


def _first(data: dict, *keys: str):
    return next((data[k] for k in keys if data.get(k) not in (None, "")), None)


def _subject_model(subject) -> tuple[str | None, str | None]:
    if isinstance(subject, str) and subject.startswith("models/") and ":" in subject:
        name, _, version = subject[len("models/"):].rpartition(":")
        return name or None, version or None
    return None, None
