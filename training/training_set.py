"""The training set's manifest: which files (name, etag, sha256) a run trains on, and its id."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

if __package__:  # imported as training.training_set (tests)
    from .input_data import Dataset, InputError
else:  # run as a script from training/ (Azure ML `code: .`)
    from input_data import Dataset, InputError  # type: ignore[no-redef]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def training_set_id(batches: list[dict[str, Any]]) -> str:
    """sha256 over the sorted (name, sha256) pairs, each fed as name, NUL, sha256, newline.

    The same encoding as shared.domain.training.training_set_id (the service's id of
    the training sets it submits), kept standalone here: the job uploads only training/.
    """
    digest = hashlib.sha256()
    for name, sha in sorted((str(b["name"]), str(b["sha256"])) for b in batches):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


def build_manifest(dataset: Dataset) -> dict[str, Any]:
    batches = [
        {"name": file.relative_to(dataset.root).as_posix(), "etag": None, "sha256": file_sha256(file)}
        for file in dataset.files
    ]
    return {"id": training_set_id(batches), "batches": batches}


def load_manifest(path: str | Path) -> dict[str, Any]:
    try:
        manifest = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read training set manifest {path}: {error}")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("id"), str) or not manifest["id"]:
        raise InputError(f"training set manifest {path} has no string 'id'")
    batches = manifest.get("batches")
    if not isinstance(batches, list) or not all(isinstance(b, dict) and "name" in b for b in batches):
        raise InputError(f"training set manifest {path} needs 'batches': a list of objects with a 'name'")
    return manifest
