"""Model-registered events, from any source, normalised into one command."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ModelRegistered:
    model_name: str
    version: str
    source: str  # "mlflow-webhook" | "eventgrid"
    delivery_id: str
    run_id: str | None = None
    model_uri: str | None = None
    tags: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
