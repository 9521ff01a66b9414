"""What a job's process gets on disk before it starts, as Azure ML's runtime prepares it: the code
snapshot (the code version's codeUri: a folder of blobs in Azurite) in <job dir>/code, and each
input resolved to the value its `${{inputs.<name>}}` binding stands for:

- literal: the value as text;
- uri_file / uri_folder over `azureml://datastores/<ds>/paths/<p>` (or the long form with
  subscriptions/.../workspaces/...), a data asset (`azureml:<name>:<version>` or its ARM id,
  read through its dataUri), or an https blob URL:
    mode Direct → the URI itself (nothing copied);
    ReadOnlyMount / Download (and the rest) → the blob(s) downloaded into <job dir>/inputs/<name>
    and the local path (the file, or the folder); read-only for a mount.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from emulators.azure.arm.workspace import datastores as default_datastores

DATASTORE_URI = re.compile(r"azureml://(?:subscriptions/[^/]+/resourcegroups/[^/]+/(?:providers/[^/]+/)?"
                           r"workspaces/[^/]+/)?datastores/(?P<ds>[^/]+)/paths/(?P<path>.*)", re.I)
SHORT_ASSET = re.compile(r"azureml:(?P<name>[^:/@]+):(?P<version>[^:/@]+)")
DIRECT = "direct"
MOUNT = "readonlymount"


class InputError(Exception):
    """An input the job cannot be given (the job fails with this message)."""


class Materialiser:
    """Downloads code and inputs of one job from the emulator's storage."""

    def __init__(self, context, job_dir: Path):
        self.context, self.config, self.job_dir = context, context.config, job_dir

    # ------------------------------------------------------------------ code
    def code(self, code_id: str | None) -> Path:
        """The code snapshot in <job dir>/code (empty when the job has no code)."""
        target = self.job_dir / "code"
        target.mkdir(parents=True, exist_ok=True)
        if not code_id:
            return target
        version = self.context.store.get(code_id)
        if version is None:
            raise InputError(f"code {code_id} does not exist")
        uri = version["properties"].get("codeUri") or ""
        container, prefix = self._blob_location(uri)
        if not self._download(container, prefix, target, folder=True):
            raise InputError(f"code {code_id}: no blobs under {uri}")
        return target

    # ---------------------------------------------------------------- inputs
    def inputs(self, inputs: dict[str, Any]) -> dict[str, str]:
        """name → the text its binding is replaced with."""
        return {name: self._input(name, spec or {}) for name, spec in sorted(inputs.items())}

    def _input(self, name: str, spec: dict[str, Any]) -> str:
        kind = str(spec.get("jobInputType", "")).lower()
        if kind == "literal":
            return str(spec.get("value", ""))
        if kind not in ("uri_file", "uri_folder"):
            raise InputError(f"input {name}: type {spec.get('jobInputType')!r} is not supported (uri_file, "
                             "uri_folder, literal)")
        uri = self._resolve_asset(name, str(spec.get("uri") or ""))
        mode = str(spec.get("mode") or "ReadOnlyMount").lower()
        if mode == DIRECT:
            return uri
        container, prefix = self._blob_location(uri)
        folder = kind == "uri_folder"
        target = inside(self.job_dir / "inputs", name, what=f"input {name!r}")
        target.mkdir(parents=True, exist_ok=True)
        if not self._download(container, prefix, target, folder=folder):
            raise InputError(f"input {name}: nothing found at {uri}")
        path = target if folder else target / Path(prefix).name
        if mode == MOUNT:
            _read_only(target)
        return str(path.resolve())

    def _resolve_asset(self, name: str, uri: str) -> str:
        """A data asset's dataUri; any other URI as it is."""
        short = SHORT_ASSET.fullmatch(uri)
        asset_id = (f"{self.config.workspace_id}/data/{short['name']}/versions/{short['version']}" if short
                    else uri if uri.lower().startswith("/subscriptions/") else None)
        if asset_id is None:
            return uri
        version = self.context.store.get(asset_id)
        if version is None:
            raise InputError(f"input {name}: data asset {uri} does not exist")
        return str(version["properties"].get("dataUri") or "")

    def _blob_location(self, uri: str) -> tuple[str, str]:
        """(container, blob name or prefix) of a datastore URI or a blob URL."""
        match = DATASTORE_URI.fullmatch(uri)
        if match:
            return self._datastore_container(match["ds"]), unquote(match["path"])
        split = urlsplit(uri)
        if split.scheme in ("http", "https"):
            parts = unquote(split.path).lstrip("/").split("/", 1)
            if not split.hostname or not split.hostname.startswith(f"{self.config.storage_account}."):
                parts = parts[1].split("/", 1) if len(parts) > 1 else [""]  # path-style: /<account>/<container>/...
            return parts[0], parts[1] if len(parts) > 1 else ""
        raise InputError(f"cannot read {uri!r}: not a datastore URI, a data asset or a blob URL")

    def _datastore_container(self, name: str) -> str:
        body = (self.context.store.get(f"{self.config.workspace_id}/datastores/{name}")
                or next((d for n, d in default_datastores(self.config).items() if n.lower() == name.lower()), None))
        if body is None:
            raise InputError(f"datastore {name} does not exist")
        return body["properties"]["containerName"]

    def _download(self, container: str, prefix: str, target: Path, folder: bool) -> int:
        """Download one blob (folder=False) or every blob under prefix/; how many."""
        client = self.context.blob_service().get_container_client(container)
        if not folder:
            blob = client.get_blob_client(prefix)
            if not blob.exists():
                return 0
            destination = inside(target, Path(prefix).name, what=f"blob {prefix!r} of {container}")
            destination.write_bytes(blob.download_blob().readall())
            return 1
        base = prefix.strip("/")
        count = 0
        for item in client.list_blobs(name_starts_with=f"{base}/" if base else None):
            relative = item.name[len(base):].lstrip("/") if base else item.name
            if not relative or relative.endswith("/"):
                continue
            destination = inside(target, relative, what=f"blob {item.name!r} of {container}")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(client.download_blob(item.name).readall())
            count += 1
        return count


def inside(base: Path, relative: str, what: str) -> Path:
    """base/relative, refused (InputError) when it names base itself or resolves outside it (a name
    with '..' segments or an absolute path)."""
    root = base.resolve()
    destination = (root / relative).resolve()
    if destination == root or not destination.is_relative_to(root):
        raise InputError(f"{what}: the path {relative!r} leaves {base}; refused")
    return destination


def substitute(command: str, values: dict[str, str], outputs: dict[str, str]) -> str:
    """The command with `${{inputs.x}}` / `${{outputs.x}}` replaced, as Azure ML does (as text)."""
    from .definition import BINDING

    def replace(match: re.Match) -> str:
        table = values if match.group(1) == "inputs" else outputs
        return table[match.group(2)]

    return BINDING.sub(replace, command)


def _read_only(folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
