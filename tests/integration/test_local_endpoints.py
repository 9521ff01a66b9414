"""Local online endpoints: real MLflow scoring servers behind the real router process.

Two versions of a small model are registered in the session's MLflow server; the safe
rollout runs through the router as on Azure ML (deploy at 0%, test by name, split,
move, delete). Validation, routing errors and locking use pre-filled state files and a
fake scoring server, so they need no model server.
"""
from __future__ import annotations

import csv
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devstack.processes import free_port, start_endpoint_router, training_python
from emulator_formats import endpoint_state
from emulators.local_ml.routing_table import RoutingTable
from shared.adapters.local_ml.endpoint_store import EndpointStore
from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints
from shared.domain.errors import Conflict, InvalidInput, NotFound, PlatformError

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KEY = "test-endpoint-key-" + uuid.uuid4().hex
COLUMNS = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
           "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]
ROWS = [[0, 171, 80, 34, 23, 43.50972593, 1.213191354, 21],
        [8, 92, 93, 47, 36, 21.24057571, 0.158364981, 23],
        [7, 115, 47, 52, 35, 41.51152348, 0.079018568, 23]]


def scoring_body(rows=ROWS) -> dict:
    return {"input_data": {"columns": COLUMNS, "index": list(range(len(rows))), "data": rows}}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def model(mlflow_server, tmp_path_factory) -> str:
    """A model with two registered versions (logistic regression on 400 rows), trained by train.py in
    the training environment, as the scoring servers that load them run there too."""
    work = tmp_path_factory.mktemp("endpoint-model")
    data = work / "diabetes-400.csv"
    with open(ROOT / "data" / "diabetes-dev.csv", newline="") as source, open(data, "w", newline="") as target:
        rows = list(csv.reader(source))[:401]
        csv.writer(target).writerows(rows)
    name = f"endpoint-model-{uuid.uuid4().hex[:6]}"
    for reg_rate in ("0.01", "1.0"):
        done = subprocess.run(
            [str(training_python()), str(ROOT / "training" / "train.py"), "--data", str(data), "--model-name", name,
             "--algorithm", "logistic_regression", "--reg-rate", reg_rate, "--experiment", "endpoint-tests"],
            cwd=work, capture_output=True, text=True, timeout=300,
            env={"PATH": os.environ.get("PATH", os.defpath), "HOME": str(work), "MLFLOW_TRACKING_URI": mlflow_server},
        )
        assert done.returncode == 0, done.stderr[-3000:]
    return name


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("endpoints")


@pytest.fixture(scope="module")
def router(state_dir, tmp_path_factory) -> str:
    port = free_port()
    process = start_endpoint_router(state_dir, tmp_path_factory.mktemp("router-logs"), port, KEY).wait_ready(30)
    yield f"http://127.0.0.1:{port}"
    process.stop()
    assert KEY not in process.log_path.read_text(), "the key must never be logged"


@pytest.fixture(scope="module")
def endpoints(state_dir, router, mlflow_server) -> LocalOnlineEndpoints:
    adapter = LocalOnlineEndpoints(state_dir, mlflow_server, router, KEY, python=training_python())
    yield adapter
    for state_file in state_dir.glob(f"*/{endpoint_state.STATE_FILE}"):  # stop every scoring server still recorded
        for entry in json.loads(state_file.read_text())["deployments"].values():
            for server in (entry, entry.get("pending") or {}):
                if server.get("pid") and server.get("port"):
                    adapter.servers.stop(server["pid"], server.get("pid_start"))


def prefill(state_dir: Path, endpoint: str, deployments: dict, traffic: dict | None = None,
            mirror: dict | None = None) -> None:
    """An endpoint state as LocalOnlineEndpoints writes it, without starting any server."""
    (state_dir / endpoint).mkdir(parents=True, exist_ok=True)
    state = endpoint_state.new_endpoint(endpoint)
    state["deployments"] = {name: {**endpoint_state.new_deployment("m", "1", "Succeeded"), "port": port}
                            for name, port in deployments.items()}
    state["traffic"] = {name: (traffic or {}).get(name, 0) for name in deployments}
    state["mirror_traffic"] = mirror or {}
    endpoint_state.state_file(state_dir, endpoint).write_text(json.dumps(state))


def post(router_url: str, endpoint: str, body, key: str | None = KEY, deployment: str | None = None):
    """A raw request to the router: (status, parsed body, answering deployment header)."""
    port = int(router_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if deployment:
        headers["azureml-model-deployment"] = deployment
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        connection.request("POST", f"/endpoints/{endpoint}/score", body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null"), response.getheader("azureml-model-deployment")
    finally:
        connection.close()


class FakeScoringServer:
    """Stands in for `mlflow models serve`: records request bodies, answers one prediction per row."""

    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.bodies.append(body)
                rows = len(body.get("dataframe_split", {}).get("data", []))
                answer = json.dumps({"predictions": [1] * rows} if status == 200 else {"message": "boom"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_servers():
    servers = []
    yield lambda status=200: servers.append(FakeScoringServer(status)) or servers[-1]
    for server in servers:
        server.close()


def process_ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state in ("Z", "X")
    except OSError:
        return True


# ------------------------------------------------------------------------ the rollout


def test_safe_rollout_through_the_router(endpoints, model, router, state_dir):
    endpoint = "rollout-" + uuid.uuid4().hex[:6]
    info = endpoints.ensure_endpoint(endpoint)
    assert (info.traffic, info.mirror_traffic, info.deployments) == ({}, {}, ())
    assert info.scoring_uri == f"{router}/endpoints/{endpoint}/score"
    assert endpoints.ensure_endpoint(endpoint) == info, "ensure_endpoint is idempotent"

    # A (v1), tested by name before it gets traffic
    blue = endpoints.create_or_update_deployment(endpoint, "blue", model, "1", timeout_seconds=120)
    assert (blue.model_version, blue.state) == ("1", "Succeeded")
    result = endpoints.invoke(endpoint, scoring_body(), deployment="blue")
    assert result.status == 200, result
    assert isinstance(result.body, list) and len(result.body) == len(ROWS)
    assert set(result.body) <= {0, 1}
    assert result.deployment == "blue" and result.latency_ms > 0
    assert post(router, endpoint, scoring_body())[0] == 503, "no live traffic yet: nothing to route to"
    assert endpoints.create_or_update_deployment(endpoint, "blue", model, "1") == blue, "same version: no-op"

    endpoints.set_traffic(endpoint, {"blue": 100})

    # B (v2) at 0%: un-named requests all stay on A, B answers when named
    green = endpoints.create_or_update_deployment(endpoint, "green", model, "2", timeout_seconds=120)
    info = endpoints.get_endpoint(endpoint)
    assert info.traffic == {"blue": 100, "green": 0}
    assert info.deployment("green") == green and green.state == "Succeeded"
    answered = Counter(post(router, endpoint, scoring_body())[2] for _ in range(20))
    assert answered == {"blue": 20}
    status, body, answered_by = post(router, endpoint, scoring_body(), deployment="green")
    assert (status, answered_by, len(body)) == (200, "green", len(ROWS))

    # 50/50: both answer
    endpoints.set_traffic(endpoint, {"blue": 50, "green": 50})
    answered = Counter(endpoints.invoke(endpoint, scoring_body()).deployment for _ in range(60))
    assert answered["blue"] > 5 and answered["green"] > 5, answered

    # mirror rules (Azure's): one deployment, at most 50%, not one with live traffic
    with pytest.raises(InvalidInput, match="at most 50"):
        endpoints.set_traffic(endpoint, {"blue": 100}, {"green": 60})
    with pytest.raises(InvalidInput, match="both live"):
        endpoints.set_traffic(endpoint, {"blue": 50, "green": 50}, {"green": 10})
    with pytest.raises(InvalidInput, match="no deployment named 'purple'"):
        endpoints.set_traffic(endpoint, {"blue": 100}, {"purple": 10})
    info = endpoints.set_traffic(endpoint, {"blue": 100}, {"green": 20})
    assert (info.traffic, info.mirror_traffic) == ({"blue": 100, "green": 0}, {"green": 20})
    assert Counter(post(router, endpoint, scoring_body())[2] for _ in range(10)) == {"blue": 10}

    # a deployment with live or mirrored traffic cannot be deleted
    with pytest.raises(Conflict, match="mirrored traffic"):
        endpoints.delete_deployment(endpoint, "green")
    with pytest.raises(Conflict, match="100% live"):
        endpoints.delete_deployment(endpoint, "blue")

    # move everything to B, update B to v1 in place, delete A
    endpoints.set_traffic(endpoint, {"green": 100}, {})
    state = json.loads((state_dir / endpoint / "endpoint.json").read_text())
    old_green_pid, blue_pid = state["deployments"]["green"]["pid"], state["deployments"]["blue"]["pid"]
    updated = endpoints.create_or_update_deployment(endpoint, "green", model, "1", timeout_seconds=120)
    assert (updated.model_version, updated.state) == ("1", "Succeeded")
    assert process_ended(old_green_pid), "the old server is stopped after the switch"
    assert post(router, endpoint, scoring_body())[:1] + post(router, endpoint, scoring_body())[2:] == (200, "green")

    endpoints.delete_deployment(endpoint, "blue")
    info = endpoints.get_endpoint(endpoint)
    assert [d.name for d in info.deployments] == ["green"] and info.traffic == {"green": 100}
    assert process_ended(blue_pid)
    assert post(router, endpoint, scoring_body(), deployment="blue")[0] == 404
    endpoints.delete_deployment(endpoint, "blue")  # absent: a no-op

    # a server that dies shows as Failed
    green_pid = json.loads((state_dir / endpoint / "endpoint.json").read_text())["deployments"]["green"]["pid"]
    os.killpg(green_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while endpoints.get_endpoint(endpoint).deployment("green").state != "Failed" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert endpoints.get_endpoint(endpoint).deployment("green").state == "Failed"
    assert post(router, endpoint, scoring_body())[0] == 502
    endpoints.set_traffic(endpoint, {})
    endpoints.delete_deployment(endpoint, "green")
    assert endpoints.get_endpoint(endpoint).deployments == ()


def test_a_deployment_that_cannot_start_fails_with_its_log(endpoints, model):
    endpoint = "failing-" + uuid.uuid4().hex[:6]
    endpoints.ensure_endpoint(endpoint)
    with pytest.raises(PlatformError) as caught:
        endpoints.create_or_update_deployment(endpoint, "broken", model, "99", timeout_seconds=60)
    assert "deploy" in caught.value.message and "log tail" in caught.value.message
    assert endpoints.get_endpoint(endpoint).deployment("broken").state == "Failed"
    endpoints.delete_deployment(endpoint, "broken")


# ------------------------------------------------------------------ router HTTP errors


def test_router_refuses_like_azure(router, state_dir, fake_servers):
    server, failing = fake_servers(), fake_servers(500)
    prefill(state_dir, "errors", {"good": server.port, "bad": failing.port, "gone": free_port()}, {"good": 100})

    assert post(router, "errors", scoring_body(), key="wrong")[0] == 401
    assert post(router, "errors", scoring_body(), key=None)[0] == 401
    status, body, _ = post(router, "errors", b"{not json")
    assert status == 400 and "not valid JSON" in body["error"]
    status, body, _ = post(router, "errors", {"dataframe_split": {"columns": [], "data": []}})
    assert status == 400 and "input_data" in body["error"]
    status, body, _ = post(router, "errors", {"input_data": {"columns": ["a", "b"], "data": [[1]]}})
    assert status == 400 and "row 0 has 1 values for 2 columns" in body["error"]
    status, body, _ = post(router, "errors", scoring_body(), deployment="nope")
    assert status == 404 and "'nope'" in body["error"]
    assert post(router, "no-such-endpoint", scoring_body())[0] == 404
    status, body, _ = post(router, "errors", scoring_body(), deployment="bad")
    assert status == 502 and "status 500" in body["error"]
    status, body, _ = post(router, "errors", scoring_body(), deployment="gone")
    assert status == 502 and "not reachable" in body["error"]

    status, body, answered_by = post(router, "errors", {"input_data": {"columns": ["a"], "data": [[1], [2]]}})
    assert (status, body, answered_by) == (200, [1, 1], "good")
    assert server.bodies[-1] == {"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}, "index is optional"


def test_router_mirrors_a_share_of_unnamed_requests(router, state_dir, fake_servers):
    live, shadow = fake_servers(), fake_servers()
    prefill(state_dir, "mirrored", {"live": live.port, "shadow": shadow.port}, {"live": 100}, {"shadow": 50})
    for _ in range(100):
        assert post(router, "mirrored", scoring_body())[2] == "live"
    for _ in range(10):
        assert post(router, "mirrored", scoring_body(), deployment="live")[0] == 200
    time.sleep(0.5)
    assert len(live.bodies) == 110
    assert 25 <= len(shadow.bodies) <= 75, "about half of the un-named requests, none of the named ones"
    assert shadow.bodies[0] == live.bodies[0]


def test_the_router_reads_the_routing_the_adapter_writes(tmp_path):
    """endpoint.json is declared once (emulator_formats.endpoint_state); this pins the adapter's
    store and traffic updates to the router's reading of them: same deployments, weights, mirror."""
    adapter = LocalOnlineEndpoints(tmp_path, "http://unused", "http://unused", KEY, python=training_python())
    adapter.ensure_endpoint("round-trip")
    with EndpointStore(tmp_path).transaction("round-trip") as state:  # servers as a deployment records them
        for name, port in {"blue": 5101, "green": 5102, "shadow": None}.items():
            state["deployments"][name] = {**endpoint_state.new_deployment("m", "1", "Succeeded"), "port": port}
    table = RoutingTable(tmp_path)

    adapter.set_traffic("round-trip", {"blue": 70, "green": 30}, {"shadow": 20})
    routes = table.routes("round-trip")
    assert routes.ports == {"blue": 5101, "green": 5102, "shadow": None}
    assert dict(zip(routes.live_names, routes.live_weights)) == {"blue": 70, "green": 30}
    assert routes.mirror == ("shadow", 20)

    adapter.set_traffic("round-trip", {"green": 100}, {})
    adapter.delete_deployment("round-trip", "blue")
    routes = table.routes("round-trip")
    assert routes.ports == {"green": 5102, "shadow": None}
    assert (routes.live_names, routes.live_weights, routes.mirror) == (("green",), (100,), None)


# ------------------------------------------------------------------ adapter validation


def test_names_and_requests_azure_would_refuse(endpoints, state_dir):
    with pytest.raises(InvalidInput, match="endpoint name"):
        endpoints.ensure_endpoint("bad_name")
    with pytest.raises(InvalidInput, match="3-32"):
        endpoints.ensure_endpoint("ab")
    endpoints.ensure_endpoint("validation")
    with pytest.raises(InvalidInput, match="start with a letter"):
        endpoints.create_or_update_deployment("validation", "1st", "m", "1")
    with pytest.raises(InvalidInput, match="consecutive dashes"):
        endpoints.create_or_update_deployment("validation", "a--b", "m", "1")
    with pytest.raises(InvalidInput, match="model version"):
        endpoints.create_or_update_deployment("validation", "blue", "m", "latest")
    with pytest.raises(InvalidInput, match="deployment name"):
        endpoints.delete_deployment("validation", "x")
    with pytest.raises(InvalidInput, match="deployment name"):
        endpoints.invoke("validation", scoring_body(), deployment="no_underscores")
    with pytest.raises(NotFound):
        endpoints.get_endpoint("never-created")
    with pytest.raises(NotFound):
        endpoints.create_or_update_deployment("never-created", "blue", "m", "1")
    assert list((state_dir / "validation").glob("logs/*")) == [], "nothing was started"


def test_traffic_rules(endpoints, state_dir):
    prefill(state_dir, "traffic", {"one": None, "two": None, "three": None})
    for traffic, mirror, message in [
        ({"one": 50, "two": 40}, None, "sum to 0 or 100, got 90"),
        ({"one": 101}, None, "integer percent 0-100"),
        ({"one": -1, "two": 101}, None, "integer percent 0-100"),
        ({"one": 50.0, "two": 50}, None, "integer percent"),
        ({"one": True}, None, "integer percent"),
        ({"four": 100}, None, "no deployment named 'four'"),
        ({"one": 100}, {"two": 51}, "at most 50"),
        ({"one": 100}, {"two": 10, "three": 10}, "one deployment only"),
        ({"one": 100}, {"one": 10}, "both live"),
        ([("one", 100)], None, "mapping"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            endpoints.set_traffic("traffic", traffic, mirror)
    assert endpoints.get_endpoint("traffic").traffic == {"one": 0, "two": 0, "three": 0}, "nothing changed"

    info = endpoints.set_traffic("traffic", {"one": 70, "two": 30}, {"three": 50})
    assert info.traffic == {"one": 70, "two": 30, "three": 0} and info.mirror_traffic == {"three": 50}
    with pytest.raises(InvalidInput, match="both live"):  # the kept mirror counts too
        endpoints.set_traffic("traffic", {"three": 100})
    info = endpoints.set_traffic("traffic", {"two": 100})
    assert info.traffic == {"one": 0, "two": 100, "three": 0} and info.mirror_traffic == {"three": 50}
    assert endpoints.set_traffic("traffic", {}, {}).traffic == {"one": 0, "two": 0, "three": 0}


def test_the_twenty_first_deployment_is_refused(endpoints, state_dir):
    prefill(state_dir, "crowded", {f"dep-{n}": None for n in range(20)})
    with pytest.raises(Conflict, match="maximum of 20"):
        endpoints.create_or_update_deployment("crowded", "dep-20", "m", "1")
    assert len(endpoints.get_endpoint("crowded").deployments) == 20
    assert not (state_dir / "crowded" / "logs").exists(), "refused before anything was started"


def test_a_deployment_without_its_process_is_failed(endpoints, state_dir):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    prefill(state_dir, "orphaned", {"dead": 1})
    path = state_dir / "orphaned" / "endpoint.json"
    state = json.loads(path.read_text())
    state["deployments"]["dead"]["pid"] = finished.pid
    path.write_text(json.dumps(state))
    assert endpoints.get_endpoint("orphaned").deployment("dead").state == "Failed"


def test_concurrent_traffic_updates_from_threads_and_processes_leave_a_consistent_file(endpoints, state_dir):
    names = ["aa1", "bb2", "cc3", "dd4"]
    prefill(state_dir, "storm", {name: None for name in names})
    splits = [dict(zip(names, weights)) for weights in ([100, 0, 0, 0], [25, 25, 25, 25], [0, 0, 50, 50],
                                                         [10, 20, 30, 40], [0, 100, 0, 0])]
    errors = []

    def storm(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                endpoints.set_traffic("storm", rng.choice(splits))
                endpoints.get_endpoint("storm")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    script = (
        "import json, random, sys\n"
        "from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints\n"
        f"e = LocalOnlineEndpoints({str(state_dir)!r}, 'http://unused', 'http://unused', 'k', python={sys.executable!r})\n"
        f"splits = {splits!r}\n"
        "for _ in range(25): e.set_traffic('storm', random.choice(splits))\n"
    )
    processes = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
                 for _ in range(2)]
    threads = [threading.Thread(target=storm, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.wait(timeout=60) for p in processes] == [0, 0]
    assert errors == []

    state = json.loads((state_dir / "storm" / "endpoint.json").read_text())
    assert state["traffic"] in splits
    assert sorted(state["deployments"]) == names
    writes = state["revision"] - 1
    assert writes == 8 * 25, "one write per update, none lost"
    assert not list((state_dir / "storm").glob(".endpoint.json.*.tmp")), "no temporary file left behind"


def test_begin_deployment_returns_at_once_and_polling_completes_it(endpoints, model):
    endpoint = f"ep-{uuid.uuid4().hex[:6]}"
    endpoints.ensure_endpoint(endpoint)

    started = endpoints.begin_deployment(endpoint, "blue", model, "1")
    again = endpoints.begin_deployment(endpoint, "blue", model, "1")

    assert started.state == "Creating" and again.state == "Creating"
    state = json.loads(endpoint_state.state_file(endpoints.state_dir, endpoint).read_text())
    assert state["deployments"]["blue"]["pid"], "one server is starting"
    first_pid = state["deployments"]["blue"]["pid"]
    deadline = time.monotonic() + 120
    info = endpoints.get_deployment(endpoint, "blue")
    while info.state == "Creating" and time.monotonic() < deadline:
        time.sleep(0.5)
        info = endpoints.get_deployment(endpoint, "blue")
    assert info.state == "Succeeded" and info.model_version == "1"
    state = json.loads(endpoint_state.state_file(endpoints.state_dir, endpoint).read_text())
    assert state["deployments"]["blue"]["pid"] == first_pid, "asking twice started one server"
    assert endpoints.invoke(endpoint, scoring_body(), deployment="blue").status == 200
    assert endpoints.get_deployment(endpoint, "green") is None
    assert endpoints.get_deployment("no-such-endpoint", "blue") is None
    endpoints.delete_deployment(endpoint, "blue")
