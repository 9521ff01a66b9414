"""A small client for the app's HTTP API and the stack's storage, used by the demo and the e2e tests."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")


@dataclass
class ApiResponse:
    status: int
    body: bytes
    headers: dict

    def json(self):
        return json.loads(self.body)


class ApiClient:
    def __init__(self, base_url: str, function_key: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.function_key = function_key
        self.timeout = timeout

    def request(self, method: str, path: str, body: bytes | dict | None = None, headers: dict | None = None,
                key: bool = True) -> ApiResponse:
        data = json.dumps(body).encode() if isinstance(body, dict | list) else body
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key and self.function_key:
            all_headers["x-functions-key"] = self.function_key
        request = urllib.request.Request(self.base_url + path, data, all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return ApiResponse(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return ApiResponse(error.code, error.read(), dict(error.headers))

    def get_json(self, path: str):
        response = self.request("GET", path)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status} {response.body[:300]!r}")
        return response.json()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.25) -> T:
    """Poll until probe() returns something truthy; raise TimeoutError naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def upload_file(connection: str, container: str, name: str, data: bytes) -> str:
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(connection)
    try:
        service.create_container(container)
    except ResourceExistsError:
        pass
    return service.get_blob_client(container, name).upload_blob(data, overwrite=True)["etag"]
