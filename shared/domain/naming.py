"""Azure ML online endpoint and deployment names (pure; standard library only).

Azure's rules: 3-32 characters, a letter first, then letters, digits and single dashes,
no dash at the end; at most 20 deployments per endpoint.
"""
from __future__ import annotations

import re

from shared.domain.errors import InvalidInput

MIN_NAME_LENGTH = 3
MAX_NAME_LENGTH = 32
MAX_DEPLOYMENTS = 20
# The model part of a generated deployment name: short enough that "-v<version>" always fits.
MODEL_PART_LENGTH = 16

_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*")
_VERSION = re.compile(r"[A-Za-z0-9]+")


def validate_name(name: object, what: str = "name") -> str:
    """`name` when it follows Azure's rules, else InvalidInput saying which rule it breaks."""
    if not isinstance(name, str):
        raise InvalidInput(f"{what} must be a string, got {type(name).__name__}")
    if not MIN_NAME_LENGTH <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidInput(
            f"{what} {name!r} must be {MIN_NAME_LENGTH}-{MAX_NAME_LENGTH} characters long (has {len(name)})"
        )
    if not name[0].isascii() or not name[0].isalpha():
        raise InvalidInput(f"{what} {name!r} must start with a letter")
    if "--" in name:
        raise InvalidInput(f"{what} {name!r} must not contain consecutive dashes")
    if name.endswith("-"):
        raise InvalidInput(f"{what} {name!r} must not end with a dash")
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"{what} {name!r} may contain only letters, digits and dashes")
    return name


def validate_deployment_name(name: object) -> str:
    """The deployment name when valid; InvalidInput naming the broken rule otherwise."""
    return validate_name(name, "deployment name")


def validate_endpoint_name(name: object) -> str:
    """The endpoint name when valid (same rules as deployments); InvalidInput otherwise."""
    return validate_name(name, "endpoint name")


def deployment_name_for(model_name: str, version: str | int) -> str:
    """A valid deployment name for a model version: ("diabetes-classifier", "7") → "diabetes-classif-v7".

    The model name is reduced to letters, digits and single dashes, cut to 16 characters,
    and "-v<version>" appended. InvalidInput when the model name has no letter or the
    version is not letters/digits.
    """
    version_text = str(version).strip()
    if not _VERSION.fullmatch(version_text):
        raise InvalidInput(f"model version {version!r} must be letters and digits only")
    if not isinstance(model_name, str):
        raise InvalidInput(f"model name must be a string, got {type(model_name).__name__}")
    part = re.sub(r"[^A-Za-z0-9]+", "-", model_name)
    part = re.sub(r"^[^A-Za-z]+", "", part)  # a letter first
    if not part:
        raise InvalidInput(f"model name {model_name!r} has no letter to start a deployment name with")
    part = part[:MODEL_PART_LENGTH].rstrip("-").lower()
    suffix = f"-v{version_text.lower()}"
    if len(suffix) > MAX_NAME_LENGTH - 1:
        raise InvalidInput(f"model version {version!r} is too long for a deployment name")
    part = part[: MAX_NAME_LENGTH - len(suffix)].rstrip("-")
    return validate_deployment_name(f"{part}{suffix}")


_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def validate_record_id(record_id: object, what: str = "id") -> str:
    """An id of one of our records (approval, job, drift check) as it may appear in a route:
    letters, digits, '.', '_' and '-', at most 200 characters, no '..'. InvalidInput otherwise."""
    if not isinstance(record_id, str) or not _RECORD_ID.fullmatch(record_id) or ".." in record_id:
        shown = record_id[:60] if isinstance(record_id, str) else type(record_id).__name__
        raise InvalidInput(f"{what} id {shown!r} is not valid (letters, digits, '.', '_' and '-', at most 200)")
    return record_id
