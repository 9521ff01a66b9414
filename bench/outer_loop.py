"""Benchmark: the outer loop on the local stack.

    .venv/bin/python bench/outer_loop.py [--runs 3] [--duplicates 1000]

Starts its own stack on free ports (temporary folder). Per run it uploads a data file and
measures, from the app's own records:
  registered → staging answering  (MLflow's creation time → the candidate passed its smoke test
                                   on the staging deployment and awaits approval)
  approve → traffic switched      (POST approve sent → an un-named scoring request is answered
                                   by the candidate's deployment)
Then it delivers one signed model_version.created webhook `--duplicates` times and reports the
per-delivery latency, beside a baseline in the same run: the same number of calls to the
host's no-op status route. It checks that the duplicates created no deployment.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.client import ApiClient, upload_file, wait_for  # noqa: E402
from devstack.processes import free_port  # noqa: E402
from devstack.stack import LocalStack, Ports  # noqa: E402
from shared.domain.signatures import mlflow_signature  # noqa: E402
from tests.e2e.conftest import stack_values  # noqa: E402

PROD = (ROOT / "data" / "diabetes-prod.csv").read_text().splitlines()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def score_header(stack: LocalStack) -> str | None:
    header = PROD[0].split(",")
    keep = [i for i, c in enumerate(header) if c not in ("PatientID", "Diabetic")]
    row = PROD[1].split(",")
    body = {"input_data": {"columns": [header[i] for i in keep], "index": [0],
                           "data": [[float(row[i]) if "." in row[i] else int(row[i]) for i in keep]]}}
    request = urllib.request.Request(
        f"{stack.endpoint_url}/endpoints/{stack.values['ENDPOINT_NAME']}/score", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {stack.values['LOCAL_ENDPOINT_KEY']}"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("azureml-model-deployment")
    except OSError:
        return None


def one_run(stack: LocalStack, api: ApiClient, index: int) -> dict:
    from mlflow import MlflowClient

    seen = {c["version"] for c in api.get_json("/api/candidates")["candidates"]}
    rows = PROD[1 + index * 2000: 1 + (index + 1) * 2000]
    upload_file(stack.storage_connection, "data", f"bench/prod-{index}-{time.time_ns()}.csv",
                ("\n".join([PROD[0], *rows]) + "\n").encode())

    def settled():
        fresh = [c for c in api.get_json("/api/candidates")["candidates"] if c["version"] not in seen]
        return next((c for c in fresh if c["status"] not in ("received", "gating", "deploying")), None)

    candidate = wait_for("a settled candidate", settled, 300, interval=0.2)
    if candidate["status"] != "awaiting_approval":
        raise SystemExit(f"candidate v{candidate['version']} ended {candidate['status']}: {candidate['history'][-1]}")
    created = MlflowClient(stack.tracking_uri).get_model_version(
        stack.values["MODEL_NAME"], candidate["version"]).creation_timestamp / 1000
    staged = datetime.fromisoformat(candidate["history"][-1]["at"]).timestamp()

    started = time.perf_counter()
    response = api.request("POST", f"/api/approvals/{candidate['approval_id']}/approve", {"reviewer": "bench"})
    assert response.status == 202, response.body
    wait_for("traffic on the candidate", lambda: score_header(stack) == candidate["deployment"], 30, interval=0.01)
    switched = time.perf_counter() - started
    return {"registered_to_staging_answering_s": staged - created, "approve_to_traffic_switched_s": switched}


def duplicates(stack: LocalStack, api: ApiClient, count: int) -> dict:
    version = api.get_json("/api/candidates")["candidates"][0]["version"]
    body = json.dumps({"entity": "model_version", "action": "created",
                       "data": {"name": stack.values["MODEL_NAME"], "version": version, "tags": {}}}).encode()
    secret = stack.values["MLFLOW_WEBHOOK_SECRET"]
    endpoint_file = stack.endpoints_dir / stack.values["ENDPOINT_NAME"] / "endpoint.json"
    deployments_before = set(json.loads(endpoint_file.read_text())["deployments"])
    duplicate_ms, baseline_ms = [], []
    for i in range(count):
        ts = str(int(time.time()))
        headers = {"X-MLflow-Delivery-Id": f"bench-{i}", "X-MLflow-Timestamp": ts,
                   "X-MLflow-Signature": mlflow_signature(secret, f"bench-{i}", ts, body)}
        started = time.perf_counter()
        response = api.request("POST", "/api/mlflow/webhook", body, headers, key=False)
        duplicate_ms.append((time.perf_counter() - started) * 1000)
        assert response.status == 200 and response.json()["outcome"] == "duplicate", response.body
        started = time.perf_counter()
        api.request("GET", "/admin/host/status", key=False)
        baseline_ms.append((time.perf_counter() - started) * 1000)
    deployments_after = set(json.loads(endpoint_file.read_text())["deployments"])
    assert deployments_after == deployments_before, (deployments_before, deployments_after)
    return {"p50": statistics.median(duplicate_ms), "p99": percentile(duplicate_ms, 99),
            "baseline_p50": statistics.median(baseline_ms), "baseline_p99": percentile(baseline_ms, 99)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duplicates", type=int, default=1000)
    args = parser.parse_args()
    ports = Ports(blob=free_port(), queue=free_port(), mlflow=free_port(), host=free_port(), endpoint=free_port())
    values = stack_values(TRAINING_QUIET_PERIOD_SECONDS="1", TRAINING_ALGORITHM="gradient_boosting", GATE_MAX_DROP="0.05")
    stack = LocalStack(Path(tempfile.mkdtemp(prefix="bench-outer-")), values, ports)
    stack.start()
    try:
        api = ApiClient(stack.host_url, values["LOCAL_HOST_FUNCTION_KEY"])
        runs = []
        for i in range(args.runs):
            runs.append(one_run(stack, api, i))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), flush=True)
        dup = duplicates(stack, api, args.duplicates)
    finally:
        stack.stop()
    print(f"\nmedians over {args.runs} runs:")
    for key, target in {"registered_to_staging_answering_s": 15.0, "approve_to_traffic_switched_s": 2.0}.items():
        print(f"  {key:<36} {statistics.median(r[key] for r in runs):6.2f} s   (target <= {target} s)")
    print(f"\n{args.duplicates} duplicate deliveries of one model_version.created (sequential, over HTTP):")
    print(f"  per delivery     p50 {dup['p50']:6.2f} ms   p99 {dup['p99']:6.2f} ms   (target p99 <= 50 ms)")
    print(f"  baseline route   p50 {dup['baseline_p50']:6.2f} ms   p99 {dup['baseline_p99']:6.2f} ms   "
          f"(ratio p50 {dup['p50'] / dup['baseline_p50']:.1f}x)")
    print("  deployments created by the duplicates: 0")


if __name__ == "__main__":
    main()
