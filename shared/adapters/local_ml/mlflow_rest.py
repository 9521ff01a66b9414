"""The few MLflow REST calls the service needs, without importing mlflow (seconds of cold start)."""
from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterator

from shared.domain.errors import InvalidInput, NotFound, PlatformError


class MlflowRest:
    def __init__(self, tracking_uri: str, timeout: float = 10.0):
        self.base = tracking_uri.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, /, **params) -> dict:
        url = f"{self.base}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(params)}"
        return self._call(urllib.request.Request(url), path)

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            f"{self.base}/api/2.0/mlflow/{path}", json.dumps(body).encode(),
            {"Content-Type": "application/json"}, method="POST",
        )
        return self._call(request, path)

    def _call(self, request: urllib.request.Request, path: str, read=None):
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return read(response) if read else json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = _error_code(error)
            if error.code == 404 or detail == "RESOURCE_DOES_NOT_EXIST":
                raise NotFound(f"MLflow {path}: not found") from None
            raise PlatformError(f"MLflow {path}: HTTP {error.code} {detail}") from None
        except OSError as error:
            raise PlatformError(f"MLflow {path}: server unreachable ({error.__class__.__name__})") from None

    def model_version(self, name: str, version: str) -> dict:
        return self.get("model-versions/get", name=name, version=version)["model_version"]

    def run(self, run_id: str) -> dict:
        return self.get("runs/get", run_id=run_id)["run"]

    def run_files(self, run_id: str, path: str) -> Iterator[str]:
        """Every file under `path` of the run's artifacts (artifacts/list, folders followed), by its run-relative path."""
        folders = [path]
        while folders:
            folder, token = folders.pop(), None
            while True:
                page = self.get("artifacts/list", run_id=run_id, path=folder, **({"page_token": token} if token else {}))
                for entry in page.get("files", []):
                    if entry.get("is_dir"):
                        folders.append(entry["path"])
                    else:
                        yield entry["path"]
                token = page.get("next_page_token")
                if not token:
                    break

    def run_file_sha256(self, run_id: str, path: str, chunk_size: int = 1 << 20) -> str:
        """sha256 hex of one artifact file of the run, streamed from the server's get-artifact endpoint."""
        def digest(response) -> str:
            sha = hashlib.sha256()
            while chunk := response.read(chunk_size):
                sha.update(chunk)
            return sha.hexdigest()

        url = f"{self.base}/get-artifact?{urllib.parse.urlencode({'run_id': run_id, 'path': path})}"
        return self._call(urllib.request.Request(url), f"get-artifact {path}", read=digest)

    def search_model_versions(self, name: str, page_size: int = 1000) -> Iterator[dict]:
        """Every version of one registered model, following `next_page_token` to the end."""
        if "'" in name or "\\" in name:
            raise InvalidInput(f"model name {name[:80]!r} cannot be put in an MLflow search filter")
        token = None
        while True:
            params = {"filter": f"name='{name}'", "max_results": page_size, **({"page_token": token} if token else {})}
            page = self.get("model-versions/search", **params)
            yield from page.get("model_versions", [])
            token = page.get("next_page_token")
            if not token:
                return


def _error_code(error: urllib.error.HTTPError) -> str:
    try:
        return json.loads(error.read()).get("error_code", "")
    except (ValueError, OSError):
        return ""
