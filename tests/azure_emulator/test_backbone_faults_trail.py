"""Injected HTTP faults and the request trail, against the emulator process."""
from __future__ import annotations

import json

import pytest
from azure.core import PipelineClient
from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest

pytestmark = pytest.mark.integration

DEPLOYMENT = "/onlineEndpoints/backbone-ep/deployments/blue"


def test_a_429_fault_answers_once_with_retry_after_then_routing_resumes(emulator_client):
    token = emulator_client.token()
    emulator_client.add_fault({"kind": "http", "match": {"method": "PUT", "path": "/deployments/blue$"},
                               "status": 429, "headers": {"Retry-After": "1"}, "times": 1})

    other = emulator_client.arm("GET", DEPLOYMENT, token=token)
    throttled = emulator_client.arm("PUT", DEPLOYMENT, token=token, json={})
    after = emulator_client.arm("PUT", DEPLOYMENT, token=token, json={})

    assert other.status_code != 429
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json()["error"]["code"]
    assert after.status_code != 429
    assert emulator_client.faults() == []


def test_azure_cores_retry_policy_waits_out_the_injected_429(emulator_client):
    token = emulator_client.token()
    emulator_client.add_fault({"kind": "http", "match": {"method": "GET", "path": "/_backbone_retry$"},
                               "status": 429, "headers": {"Retry-After": "1"}, "body": {"error": {
                                   "code": "TooManyRequests", "message": "throttled"}}, "times": 1})
    client = PipelineClient(emulator_client.config.base_url, policies=[RetryPolicy(retry_total=2)],
                            connection_verify=str(emulator_client.stack.ca_file))
    request = HttpRequest("GET", f"{emulator_client.config.base_url}{emulator_client.config.workspace_id}"
                                 "/_backbone_retry?api-version=2024-04-01", headers={"Authorization": f"Bearer {token}"})

    response = client.send_request(request)

    assert response.status_code == 404  # the retry reached the router, which has no such route
    statuses = [line["status"] for line in trail(emulator_client) if line["path"].endswith("/_backbone_retry")]
    assert statuses == [429, 404]


def test_an_http_fault_matches_its_host_only(emulator_client):
    emulator_client.add_fault({"kind": "http", "match": {"host": "nowhere\\.localhost"}, "status": 500})

    assert emulator_client.arm("GET", "", token=emulator_client.token()).status_code != 500
    assert len(emulator_client.faults()) == 1


def test_faults_are_listed_and_deleted_by_kind_and_id(emulator_client):
    first = emulator_client.add_fault({"kind": "job_failed", "match": {"job": "a"}})
    emulator_client.add_fault({"kind": "eventgrid_unreachable", "match": {"subscription": "s"}})

    assert emulator_client.request("DELETE", f"/_emulator/faults/{first['id']}").json() == {"removed": 1}
    assert [f["kind"] for f in emulator_client.faults()] == ["eventgrid_unreachable"]
    assert emulator_client.request("DELETE", "/_emulator/faults", params={"kind": "eventgrid_unreachable"}).json() == {
        "removed": 1}


@pytest.mark.parametrize("fault", [{"kind": "nonsense"}, {"kind": "http"}, {"kind": "job_failed", "times": 0},
                                   {"kind": "http", "status": 500, "match": {"path": "("}}])
def test_invalid_faults_are_refused(emulator_client, fault):
    answer = emulator_client.request("POST", "/_emulator/faults", json=fault)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "InvalidFault"


def trail(emulator_client) -> list[dict]:
    return [json.loads(line) for line in emulator_client.stack.requests_trail.read_text().splitlines()]


def test_the_trail_records_each_request_without_secrets(emulator_client):
    token = emulator_client.token()
    emulator_client.arm("GET", "/datastores", token=token,
                        params={"api-version": "2024-04-01", "sig": "SECRETSIG", "code": "SECRETCODE"},
                        headers={"x-ms-client-request-id": "SECRETHEADER"})
    emulator_client.arm("GET", "/datastores")
    emulator_client.request("GET", "/_emulator/health")

    text = emulator_client.stack.requests_trail.read_text()
    lines = [line for line in trail(emulator_client) if line["path"].endswith("/datastores")]
    assert {"time", "client", "method", "url", "host", "path", "api_version", "status"} <= set(lines[-1])
    assert [(line["client"], line["status"] == 401) for line in lines[-2:]] == [("app", False), ("anonymous", True)]
    assert lines[-2]["api_version"] == "2024-04-01" and lines[-2]["method"] == "GET"
    assert "sig=REDACTED" in lines[-2]["url"] and "code=REDACTED" in lines[-2]["url"]
    for secret in ("SECRETSIG", "SECRETCODE", "SECRETHEADER", token, token.split(".")[2]):
        assert secret not in text
    assert not any(line["path"].startswith("/_emulator") for line in trail(emulator_client))


def test_token_requests_are_in_the_trail_without_the_identity_header(emulator_client):
    emulator_client.token("https://storage.azure.com/")

    line = [line for line in trail(emulator_client) if line["path"] == "/msi/token"][-1]
    assert (line["client"], line["status"], line["api_version"]) == ("app", 200, "2019-08-01")
    assert line["url"].startswith(f"http://127.0.0.1:{emulator_client.config.identity_port}/msi/token?")
    assert emulator_client.stack.identity_header not in emulator_client.stack.requests_trail.read_text()
