"""Benchmark: the queued step pipeline.

    .venv/bin/python bench/steps.py [--deliveries 200] [--duplicates 1000] [--deployment-seconds 120]

Part 1 (in process, real Azurite, ML platform and endpoint faked): 1,000 duplicates of a
candidate's due deploy message delivered one after the other; per-message latency (p50, p99)
and how many deployments they made, beside a baseline measured in the same run: one read of
the candidate's document from Azurite per message.

Part 2 (the whole local stack, its own ports and folder): deployments are made slow on purpose
(LOCAL_DEPLOYMENT_MIN_SECONDS, default 120 s, as Azure ML's first MLflow deployments take
minutes). While a candidate's deployment is being created it measures the latency of signed
MLflow webhook deliveries and of Event Grid ModelRegistered deliveries (duplicates of that
version) against the host's status route; then kills the host (SIGKILL) with the deployment
step due, starts it again, and measures how long until the step is polled again, against the
queue's visibility for a message whose host died (DEVHOST_QUEUE_VISIBILITY_SECONDS=10).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.client import ApiClient, upload_file, wait_for  # noqa: E402
from devstack.processes import azurite_connection_string, free_port, start_azurite  # noqa: E402
from devstack.stack import LocalStack, Ports  # noqa: E402
from shared.domain.signatures import mlflow_signature  # noqa: E402

VISIBILITY_SECONDS = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def timed_ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def duplicates_in_process(count: int) -> dict:
    from shared.adapters.blob_audit import BlobAuditLog
    from shared.adapters.blob_storage import BlobDocumentStore, BlobFileStore, blob_service
    from shared.bootstrap import build_services
    from shared.domain.models import ModelRegistered
    from tests.builders import MODEL, unit_settings
    from tests.fakes import FakeClock, FakeDeliveryPlatform, FakeNotifier, FakeOnlineEndpoints, FakeStepQueue
    from datetime import datetime, timezone

    with tempfile.TemporaryDirectory() as folder:
        blob, queue_port = free_port(), free_port()
        azurite = start_azurite(Path(folder) / "azurite", Path(folder) / "logs", blob, queue_port).wait_ready()
        try:
            service = blob_service(azurite_connection_string(blob, queue_port))
            container = f"bench-{uuid.uuid4().hex[:8]}"
            documents, endpoints, queue = BlobDocumentStore(service, container), FakeOnlineEndpoints(), FakeStepQueue(inline=False)
            services = build_services(unit_settings(), documents=documents, files=BlobFileStore(service),
                                      platform=FakeDeliveryPlatform(), notifier=FakeNotifier(), endpoints=endpoints,
                                      audit=BlobAuditLog(service, container), queue=queue,
                                      clock=FakeClock(datetime(2026, 12, 1, tzinfo=timezone.utc)))
            queue.runner = services.steps
            services.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "bench"))
            gate_id, gate_body, _ = queue.pending.pop(0)
            services.steps.run(gate_body, gate_id, 1)  # gate passes: the deploy message is due
            deploy_body = queue.pending.pop(0)[1]
            latencies = [timed_ms(lambda i=i: services.steps.run(deploy_body, f"dup-{i}", 1)) for i in range(count)]
            key = documents.list_keys("candidates/", 5).keys[0]
            baseline = [timed_ms(lambda: documents.get(key)) for _ in range(count)]
        finally:
            azurite.stop()
    deployments = len([c for c in endpoints.calls if c[0] == "deploy"])
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "deployments": deployments,
            "baseline_p50": percentile(baseline, 50), "baseline_p99": percentile(baseline, 99)}


def webhook(stack: LocalStack, api: ApiClient, version: str, i: int):
    body = json.dumps({"entity": "model_version", "action": "created",
                       "data": {"name": stack.values["MODEL_NAME"], "version": version, "tags": {}}}).encode()
    ts = str(int(time.time()))
    headers = {"X-MLflow-Delivery-Id": f"bench-{i}", "X-MLflow-Timestamp": ts,
               "X-MLflow-Signature": mlflow_signature(stack.values["MLFLOW_WEBHOOK_SECRET"], f"bench-{i}", ts, body)}
    response = api.request("POST", "/api/mlflow/webhook", body, headers, key=False)
    assert response.status == 200, response.body[:200]


def event_grid(stack: LocalStack, version: str):
    event = {"id": str(uuid.uuid4()), "topic": "/subscriptions/x", "subject": f"models/{stack.values['MODEL_NAME']}:{version}",
             "eventType": "Microsoft.MachineLearningServices.ModelRegistered", "eventTime": "2026-12-01T00:00:00Z",
             "data": {"ModelName": stack.values["MODEL_NAME"], "ModelVersion": int(version)}, "dataVersion": "2"}
    response = ApiClient(stack.host_url, stack.values["LOCAL_HOST_MASTER_KEY"]).request(
        "POST", "/runtime/webhooks/eventgrid?functionName=on_model_registered", [event], {"aeg-event-type": "Notification"})
    assert response.status in (200, 202), response.body[:200]


def candidate(api: ApiClient, version: str) -> dict:
    return next(c for c in api.get_json("/api/candidates")["candidates"] if c["version"] == version)


def stack_run(deliveries: int, deployment_seconds: float) -> dict:
    from tests.e2e.conftest import stack_values

    with tempfile.TemporaryDirectory() as folder:
        ports = Ports(blob=free_port(), queue=free_port(), mlflow=free_port(), host=free_port(), endpoint=free_port())
        stack = LocalStack(Path(folder), stack_values(LOCAL_DEPLOYMENT_MIN_SECONDS=str(deployment_seconds),
                                                      DEVHOST_QUEUE_VISIBILITY_SECONDS=str(VISIBILITY_SECONDS)), ports)
        stack.start()
        try:
            api = ApiClient(stack.host_url, stack.values["LOCAL_HOST_FUNCTION_KEY"])
            upload_file(stack.storage_connection, "data", "bench/dev.csv", (ROOT / "data" / "diabetes-dev.csv").read_bytes())
            version = wait_for("a registered version", lambda: next(
                (j["model_version"] for j in api.get_json("/api/jobs")["jobs"] if j.get("model_version")), None), 300)
            wait_for("the deployment being created", lambda: candidate(api, version)["steps"].get("step") == "await_deployment", 120)
            status = [timed_ms(lambda: api.request("GET", "/admin/host/status", key=False)) for _ in range(deliveries)]
            hooks = [timed_ms(lambda i=i: webhook(stack, api, version, i)) for i in range(deliveries)]
            grid = [timed_ms(lambda: event_grid(stack, version)) for _ in range(deliveries)]
            still_creating = candidate(api, version)["steps"].get("step") == "await_deployment"
            polls = candidate(api, version)["steps"]["polls"]
            killed = time.monotonic()
            stack.kill_host()
            stack.start_host()
            restarted = time.monotonic()
            wait_for("the step polled again", lambda: candidate(api, version)["steps"]["polls"] > polls
                     or candidate(api, version)["steps"].get("step") != "await_deployment", 120, interval=0.1)
            resumed = time.monotonic()
        finally:
            stack.stop()
    return {"status": status, "webhook": hooks, "event_grid": grid, "still_creating": still_creating,
            "kill_to_resume_s": resumed - killed, "restart_to_resume_s": resumed - restarted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--duplicates", type=int, default=1000)
    parser.add_argument("--deployment-seconds", type=float, default=120)
    args = parser.parse_args()

    dup = duplicates_in_process(args.duplicates)
    print(f"{args.duplicates} duplicate deploy messages: p50 {dup['p50']:.1f} ms, p99 {dup['p99']:.1f} ms, "
          f"{dup['deployments']} deployment(s); baseline (one Azurite document read) p50 {dup['baseline_p50']:.1f} ms, "
          f"p99 {dup['baseline_p99']:.1f} ms (ratio of p50s {dup['p50'] / dup['baseline_p50']:.1f}x)  [target p99 <= 50 ms]")
    run = stack_run(args.deliveries, args.deployment_seconds)
    for name in ("webhook", "event_grid"):
        values = run[name]
        print(f"{name} delivery while the deployment is created: p50 {statistics.median(values):.1f} ms, "
              f"p99 {percentile(values, 99):.1f} ms; status route p50 {statistics.median(run['status']):.1f} ms "
              f"(ratio {statistics.median(values) / statistics.median(run['status']):.1f}x)  [target p99 <= 1000 ms]")
    print(f"deployment still being created after the deliveries: {run['still_creating']}")
    print(f"host killed with the deployment step due → step polled again: {run['kill_to_resume_s']:.1f} s after the kill "
          f"({run['restart_to_resume_s']:.1f} s after the restart); visibility {VISIBILITY_SECONDS} s  "
          f"[target <= visibility + 5 s]")


if __name__ == "__main__":
    main()
