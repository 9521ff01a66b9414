"""Azure ML's rules for online-endpoint requests: model references and traffic splits (pure)."""
from __future__ import annotations

from shared.domain.errors import InvalidInput
from shared.domain.naming import validate_deployment_name

MAX_MIRROR_PERCENT = 50


def model_ref(model_name: object, model_version: object) -> tuple[str, str]:
    if not isinstance(model_name, str) or not model_name.strip() or "/" in model_name or ":" in model_name:
        raise InvalidInput(f"model name must be a non-empty string without '/' or ':', got {model_name!r}")
    version = str(model_version).strip() if isinstance(model_version, (str, int)) else ""
    if not version.isdigit():
        raise InvalidInput(f"model version must be a registry version number, got {model_version!r}")
    return model_name.strip(), version


def percent_map(value: object, what: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a mapping of deployment name to percent, got {type(value).__name__}")
    result = {}
    for name, percent in value.items():
        validate_deployment_name(name)
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidInput(f"{what}: {name!r} must get an integer percent 0-100, got {percent!r}")
        result[name] = percent
    return result


def check_split(live: dict[str, int], mirror: dict[str, int] | None, step: str) -> None:
    total = sum(live.values())
    if total not in (0, 100):
        raise InvalidInput(f"{step}: live traffic must sum to 0 or 100, got {total}")
    if mirror is None:
        return
    mirrored = {name: p for name, p in mirror.items() if p}
    if len(mirrored) > 1:
        raise InvalidInput(f"{step}: mirror traffic may go to one deployment only, got {sorted(mirrored)}")
    for name, percent in mirrored.items():
        if percent > MAX_MIRROR_PERCENT:
            raise InvalidInput(f"{step}: mirror traffic to {name!r} is {percent}%, at most {MAX_MIRROR_PERCENT}%")
        if live.get(name):
            raise InvalidInput(f"{step}: deployment {name!r} cannot get both live ({live[name]}%) "
                               f"and mirror ({percent}%) traffic")
