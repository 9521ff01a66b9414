"""The real MLflow server behind Azure ML's MLflow API: plain HTTP on loopback (stdlib only)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

TIMEOUT_SECONDS = 60


@dataclass
class Answer:
    """What the backing server answered."""

    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class BackingError(Exception):
    """The backing server answered a call the emulator made for itself with an error."""

    def __init__(self, answer: Answer, endpoint: str):
        super().__init__(f"backing MLflow {endpoint}: HTTP {answer.status} {answer.body[:300]!r}")
        self.answer = answer

    @property
    def error_code(self) -> str:
        body = self.answer.json()
        return body.get("error_code", "") if isinstance(body, dict) else ""


class Backing:
    """Calls to the backing MLflow server (`config.mlflow_backing_url`)."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def send(self, method: str, path: str, query: str = "", body: bytes | None = None,
             content_type: str = "application/json") -> Answer:
        """One request, as is; any HTTP status is an answer (connection failures raise OSError)."""
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        data = body if body else (b"" if method in ("POST", "PUT", "PATCH") else None)
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return Answer(response.status, response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read(), error.headers.get("Content-Type", ""))

    def call(self, method: str, endpoint: str, payload: dict | None = None, **params: Any) -> dict:
        """MLflow REST `endpoint` (e.g. "runs/get") → its JSON body; BackingError on an error status."""
        query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        body = json.dumps(payload).encode() if payload is not None else None
        answer = self.send(method, f"/api/2.0/mlflow/{endpoint}", query, body)
        if answer.status != 200:
            raise BackingError(answer, endpoint)
        return answer.json() or {}

    def put_artifact(self, artifact_path: str, data: bytes) -> None:
        """Store one file under the server's proxied artifact root (mlflow-artifacts:/<artifact_path>)."""
        answer = self.send("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{artifact_path}", body=data,
                           content_type="application/octet-stream")
        if answer.status != 200:
            raise BackingError(answer, f"mlflow-artifacts {artifact_path}")

    def healthy(self) -> bool:
        try:
            return self.send("GET", "/health").status == 200
        except OSError:
            return False
