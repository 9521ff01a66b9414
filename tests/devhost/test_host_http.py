"""The host over real HTTP: routing, keys, errors, Event Grid webhook, admin API, timer."""
from __future__ import annotations

import json
import logging

import pytest
import requests

from devhost.host import FunctionsHost

from .conftest import FUNCTION_KEY, MASTER_KEY, SAMPLE_APP, read_records, sample_env, unique_container, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    return tmp_path_factory.mktemp("records") / "records.jsonl"


@pytest.fixture(scope="module")
def host(azurite, records):
    env = sample_env(records, azurite, unique_container(), schedule="* * * * * *")
    host = FunctionsHost(SAMPLE_APP, 0, env).start()
    yield host
    host.stop()


def test_status_needs_no_key_and_lists_functions(host):
    response = requests.get(f"{host.url}/admin/host/status", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "Running"
    assert {"hello", "items", "on_event", "tick", "on_blob"} <= set(body["functions"])


def test_anonymous_route_with_params_query_and_headers(host):
    response = requests.get(f"{host.url}/api/hello/World", params={"q": "x"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["X-Sample"] == "1"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["name"] == "World" and body["q"] == "x" and body["url"].endswith("/api/hello/World?q=x")


def test_route_constraints_and_unknown_routes_give_404(host):
    assert requests.get(f"{host.url}/api/hello/W0rld", timeout=5).status_code == 404
    assert requests.get(f"{host.url}/api/nope", timeout=5).status_code == 404
    assert requests.get(f"{host.url}/hello/World", timeout=5).status_code == 404


def test_wrong_method_gives_405(host):
    assert requests.post(f"{host.url}/api/hello/World", timeout=5).status_code == 405


def test_function_key_via_header_or_code_and_master_key(host):
    url = f"{host.url}/api/items/7/a/b"
    for response in (requests.get(url, timeout=5),
                     requests.get(url, headers={"x-functions-key": "wrong"}, timeout=5),
                     requests.get(url, params={"code": "wrong"}, timeout=5)):
        assert response.status_code == 401
        assert len(response.content) < 100
    ok = requests.post(url, headers={"x-functions-key": FUNCTION_KEY}, data=b"payload", timeout=5)
    assert ok.status_code == 201
    assert ok.json() == {"id": "7", "rest": "a/b", "method": "POST", "body": "payload"}
    assert requests.get(url, params={"code": MASTER_KEY}, timeout=5).status_code == 201


def test_admin_level_needs_the_master_key(host):
    url = f"{host.url}/api/admin-only"
    assert requests.get(url, params={"code": FUNCTION_KEY}, timeout=5).status_code == 401
    assert requests.get(url, params={"code": MASTER_KEY}, timeout=5).text == "admin ok"


def test_optional_param_and_async_function(host):
    assert requests.get(f"{host.url}/api/opt", timeout=5).text == "none"
    assert requests.get(f"{host.url}/api/opt/v", timeout=5).text == "v"
    assert requests.get(f"{host.url}/api/async", timeout=5).text == "async ok"


def test_exception_gives_500_without_trace_and_is_logged(host, caplog):
    caplog.set_level(logging.INFO, logger="devhost")
    response = requests.get(f"{host.url}/api/boom", timeout=5)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal error" and body["invocationId"]
    assert "secret" not in response.text and "Traceback" not in response.text
    assert f"Executed 'Functions.boom' (Failed, Id={body['invocationId']}" in caplog.text
    assert "secret internal detail" in caplog.text


def test_invocation_log_lines_do_not_leak_keys(host, caplog):
    caplog.set_level(logging.INFO)
    requests.get(f"{host.url}/api/items/1/x", params={"code": MASTER_KEY}, timeout=5)
    assert "Executing 'Functions.items' (Reason=" in caplog.text
    assert "Executed 'Functions.items' (Succeeded, Id=" in caplog.text
    assert MASTER_KEY not in caplog.text and "code=" not in caplog.text


def test_body_size_cap_gives_413(azurite, tmp_path):
    env = sample_env(tmp_path / "r.jsonl", azurite, unique_container())
    with FunctionsHost(SAMPLE_APP, 0, env, max_body_bytes=10) as small:
        response = requests.post(f"{small.url}/api/items/1/x", params={"code": MASTER_KEY}, data=b"x" * 11, timeout=5)
        assert response.status_code == 413


# --- Event Grid --------------------------------------------------------------------------
def eventgrid(host, body, event_type="Notification", function="on_event", key=MASTER_KEY, **kwargs):
    headers = {"Content-Type": "application/json"}
    if event_type:
        headers["aeg-event-type"] = event_type
    params = {"functionName": function}
    if key:
        params["code"] = key
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(f"{host.url}/runtime/webhooks/eventgrid", params=params, headers=headers,
                         data=data, timeout=5, **kwargs)


def grid_event(event_id: str, **data) -> dict:
    return {"id": event_id, "topic": "/subscriptions/x", "subject": "models/m:1",
            "eventType": "Microsoft.MachineLearningServices.ModelRegistered",
            "eventTime": "2024-05-01T10:00:00.1234567Z", "data": data, "dataVersion": "2", "metadataVersion": "1"}


def test_eventgrid_subscription_validation(host):
    body = [{"id": "v", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
             "data": {"validationCode": "abc-123"}, "subject": "", "eventTime": "2024-01-01T00:00:00Z"}]
    response = eventgrid(host, body, event_type="SubscriptionValidation")
    assert response.status_code == 200
    assert response.json() == {"validationResponse": "abc-123"}


def test_eventgrid_batch_is_one_invocation_per_event(host, records):
    response = eventgrid(host, [grid_event("e1", n=1), grid_event("e2", n=2)])
    assert response.status_code == 202
    seen = {r["id"]: r for r in read_records(records, "eventgrid")}
    assert {"e1", "e2"} <= set(seen)
    assert seen["e1"]["type"] == "Microsoft.MachineLearningServices.ModelRegistered"
    assert seen["e1"]["time"].startswith("2024-05-01T10:00:00.123456")
    assert eventgrid(host, grid_event("e3")).status_code == 202  # a single object


def test_eventgrid_failure_gives_500(host):
    assert eventgrid(host, [grid_event("ok"), grid_event("bad", fail=True)]).status_code == 500


def test_eventgrid_bad_requests(host):
    assert eventgrid(host, [grid_event("h")], event_type=None).status_code == 400
    assert eventgrid(host, [grid_event("h")], event_type="Bogus").status_code == 400
    assert eventgrid(host, b"not json").status_code == 400
    assert eventgrid(host, [grid_event("h")], function="missing").status_code == 404
    assert eventgrid(host, [grid_event("h")], function="hello").status_code == 404
    assert eventgrid(host, [grid_event("h")], key=None).status_code == 401
    assert eventgrid(host, [grid_event("h")], key=FUNCTION_KEY).status_code == 401


def test_eventgrid_cloudevents(host, records):
    cloud = {"specversion": "1.0", "id": "ce1", "source": "/my/source", "type": "Custom.Thing",
             "time": "2024-05-01T10:00:00Z", "subject": "s", "data": {"k": "v"}}
    assert eventgrid(host, [cloud], event_type=None).status_code == 202
    seen = [r for r in read_records(records, "eventgrid") if r["id"] == "ce1"]
    assert seen and seen[0]["type"] == "Custom.Thing" and seen[0]["topic"] == "/my/source"
    options = requests.options(f"{host.url}/runtime/webhooks/eventgrid",
                               params={"functionName": "on_event", "code": MASTER_KEY},
                               headers={"WebHook-Request-Origin": "eventgrid.azure.net"}, timeout=5)
    assert options.status_code == 200
    assert options.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"


# --- admin API and timer -----------------------------------------------------------------
def test_admin_function_list_needs_master_key(host):
    assert requests.get(f"{host.url}/admin/functions", timeout=5).status_code == 401
    listing = requests.get(f"{host.url}/admin/functions", headers={"x-functions-key": MASTER_KEY}, timeout=5).json()
    triggers = {f["name"]: f["trigger"] for f in listing}
    assert triggers["tick"] == "timerTrigger" and triggers["on_event"] == "eventGridTrigger"
    assert triggers["on_blob"] == "blobTrigger" and triggers["hello"] == "httpTrigger"


def test_admin_manual_runs(host, records):
    url = f"{host.url}/admin/functions"
    event = json.dumps(grid_event("manual-1"))
    assert requests.post(f"{url}/on_event", json={"input": event}, timeout=5).status_code == 401
    assert requests.post(f"{url}/on_event", json={"input": event}, params={"code": FUNCTION_KEY}, timeout=5).status_code == 401
    response = requests.post(f"{url}/on_event", json={"input": event}, headers={"x-functions-key": MASTER_KEY}, timeout=5)
    assert response.status_code == 202
    assert wait_for(lambda: [r for r in read_records(records, "eventgrid") if r["id"] == "manual-1"], 5)
    assert requests.post(f"{url}/nope", json={"input": ""}, params={"code": MASTER_KEY}, timeout=5).status_code == 404
    assert requests.post(f"{url}/on_event", json={"input": "{not json"}, params={"code": MASTER_KEY}, timeout=5).status_code == 400
    assert requests.post(f"{url}/hello", json={"input": ""}, params={"code": MASTER_KEY}, timeout=5).status_code == 400


def test_admin_manual_timer_run_and_timer_fires_every_second(host, records):
    before = len(read_records(records, "timer"))
    response = requests.post(f"{host.url}/admin/functions/tick", json={"input": ""}, params={"code": MASTER_KEY}, timeout=5)
    assert response.status_code == 202
    assert wait_for(lambda: len(read_records(records, "timer")) >= before + 3, 5)
    assert all(r["past_due"] is False for r in read_records(records, "timer"))
