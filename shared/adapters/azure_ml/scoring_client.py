"""Scoring calls to an Azure ML online endpoint's scoring URI through an azure-core pipeline:
the endpoint key per request and `azureml-model-deployment` only when a deployment is named
(docs/platform-facts.md#invoke-sticky-header)."""
from __future__ import annotations

import json
import time

from shared.domain.errors import PlatformError

DEPLOYMENT_HEADER = "azureml-model-deployment"


class ScoringClient:
    def __init__(self, transport=None):
        self._transport = transport
        self._pipeline = None

    def post(self, endpoint: str, uri: str, key: str, payload: str, deployment: str | None, timeout: float):
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Authorization": f"Bearer {key}"}
        if deployment:  # a fresh header dict per call: nothing sticks to the next one
            headers[DEPLOYMENT_HEADER] = deployment
        request = HttpRequest("POST", uri, headers=headers, content=payload)
        started = time.perf_counter()
        try:
            response = self._client().send_request(request, connection_timeout=timeout, read_timeout=timeout)
            data = response.read()
        except AzureError as error:
            raise PlatformError(f"invoke endpoint {endpoint!r}"
                                f"{f' deployment {deployment!r}' if deployment else ''}: "
                                f"scoring URI unreachable: {error.__class__.__name__}: {error}") from error
        latency_ms = (time.perf_counter() - started) * 1000
        return response.status_code, data, response.headers.get("Content-Type", ""), latency_ms

    def _client(self):
        if self._pipeline is None:
            from azure.core import PipelineClient
            from azure.core.pipeline.policies import HeadersPolicy, UserAgentPolicy

            # No retries: a scoring call is a POST and its answer (any status) is the result.
            kwargs = {"transport": self._transport} if self._transport is not None else {}
            self._pipeline = PipelineClient(
                base_url="", policies=[HeadersPolicy(), UserAgentPolicy(sdk_moniker="diabetes-retraining")],
                **kwargs)
        return self._pipeline


def parse_body(data: bytes, content_type: str) -> object:
    text = data.decode("utf-8", errors="replace")
    if "json" in (content_type or ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text
