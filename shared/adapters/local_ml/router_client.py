"""The app's side of the local endpoint router: scoring requests over one kept-alive connection
per thread."""
from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.domain.errors import PlatformError
from shared.ports import ScoringResult

DEPLOYMENT_HEADER = "azureml-model-deployment"


@dataclass(frozen=True)
class LocalScoringResult(ScoringResult):
    """A ScoringResult that also names the deployment that answered (the router's
    `azureml-model-deployment` response header), when there is one."""

    deployment: str | None = None


class RouterClient:
    """Sends Azure ML scoring requests to the router at `router_url` with the endpoint key
    (as `Authorization: Bearer`, never logged)."""

    def __init__(self, router_url: str, endpoint_key: str):
        self.router_url = router_url.rstrip("/")
        self._key = endpoint_key
        self._connections = threading.local()

    def scoring_uri(self, endpoint: str) -> str:
        return f"{self.router_url}/endpoints/{endpoint}/score"

    def score(self, endpoint: str, body: dict, deployment: str | None, timeout: float) -> LocalScoringResult:
        """The router's answer whatever its status (401, 404, 502... included); PlatformError
        only when the router cannot be reached."""
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"}
        if deployment:
            headers[DEPLOYMENT_HEADER] = deployment
        payload = json.dumps(body).encode()
        path = urlsplit(self.scoring_uri(endpoint)).path
        started = time.perf_counter()
        status, response_headers, data = self._post(path, payload, headers, timeout, endpoint)
        latency_ms = (time.perf_counter() - started) * 1000
        return LocalScoringResult(status, _parse_body(data, response_headers), latency_ms,
                                  response_headers.get(DEPLOYMENT_HEADER))

    def _post(self, path: str, payload: bytes, headers: dict, timeout: float, endpoint: str):
        for attempt in (1, 2):  # a kept-alive connection the router has closed fails once
            connection = self._connection(timeout)
            try:
                connection.request("POST", path, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self._drop_connection()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except (http.client.HTTPException, OSError) as error:
                self._drop_connection()
                if attempt == 2 or isinstance(error, (TimeoutError, ConnectionRefusedError)):
                    raise PlatformError(f"invoke endpoint {endpoint!r}: router {self.router_url} "
                                        f"unreachable: {error.__class__.__name__}: {error}") from error
        raise AssertionError("unreachable")

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        connection = getattr(self._connections, "router", None)
        if connection is None:
            url = urlsplit(self.router_url)
            connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
            self._connections.router = connection
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._connections, "router", None)
        if connection is not None:
            connection.close()
            self._connections.router = None


def _parse_body(data: bytes, headers: dict) -> object:
    text = data.decode("utf-8", errors="replace")
    if "json" in headers.get("content-type", ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text
