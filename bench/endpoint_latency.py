"""Benchmark: one-row scoring latency through the local endpoint router vs the scoring server itself.

    .venv/bin/python bench/endpoint_latency.py [--requests 500] [--warmup 50]

Starts an MLflow server (free port, temporary folder), registers a gradient-boosting model
trained on diabetes-dev.csv by train.py in the training environment (.venv-train), deploys it with LocalOnlineEndpoints (a real `mlflow models
serve`), starts the router, then sends one-row requests over kept-alive connections,
alternating between the router (Azure ML body, key, traffic split) and the scoring server
directly (MLflow body: the baseline, same run). Prints p50/p90/p99 in ms, the router's
overhead, and the medians. Stops everything.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.processes import free_port, start_endpoint_router, start_mlflow, training_python  # noqa: E402
from emulator_formats import endpoint_state  # noqa: E402
from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints  # noqa: E402

MODEL = "bench-endpoint-model"
ENDPOINT = "bench-endpoint"
DEPLOYMENT = "blue"


def one_row() -> tuple[list[str], list]:
    with open(ROOT / "data" / "diabetes-dev.csv", newline="") as handle:
        reader = csv.reader(handle)
        header, row = next(reader), next(reader)
    keep = [i for i, name in enumerate(header) if name not in ("PatientID", "Diabetic")]
    values = [float(row[i]) if "." in row[i] else int(row[i]) for i in keep]
    return [header[i] for i in keep], values


def register_model(tracking_uri: str, work: Path) -> None:
    started = time.perf_counter()
    subprocess.run(
        [str(training_python()), str(ROOT / "training" / "train.py"), "--data", str(ROOT / "data" / "diabetes-dev.csv"),
         "--model-name", MODEL, "--algorithm", "gradient_boosting", "--experiment", "bench-endpoint"],
        cwd=work, env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    print(f"registered {MODEL} version 1 in {time.perf_counter() - started:.1f}s")


def timed_post(connection: http.client.HTTPConnection, path: str, body: bytes, headers: dict) -> float:
    started = time.perf_counter()
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"{path}: status {response.status}: {data[:200]!r}")
    return elapsed


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": statistics.median(ordered), "p90": pick(0.90), "p99": pick(0.99)}


def measure(router_port: int, server_port: int, key: str, requests: int, warmup: int) -> dict:
    columns, row = one_row()
    routed = (f"/endpoints/{ENDPOINT}/score",
              json.dumps({"input_data": {"columns": columns, "index": [0], "data": [row]}}).encode(),
              {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    direct = ("/invocations", json.dumps({"dataframe_split": {"columns": columns, "data": [row]}}).encode(),
              {"Content-Type": "application/json"})
    to_router = http.client.HTTPConnection("127.0.0.1", router_port, timeout=30)
    to_server = http.client.HTTPConnection("127.0.0.1", server_port, timeout=30)
    for _ in range(warmup):
        timed_post(to_router, *routed)
        timed_post(to_server, *direct)
    samples = {"router": [], "direct": []}
    for _ in range(requests):  # alternating: both see the same machine load
        samples["router"].append(timed_post(to_router, *routed))
        samples["direct"].append(timed_post(to_server, *direct))
    to_router.close()
    to_server.close()
    return {name: percentiles(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args(argv)
    key = uuid.uuid4().hex
    processes = []
    endpoints = None
    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as tmp:
        work = Path(tmp)
        try:
            mlflow_port, router_port = free_port(), free_port()
            processes.append(start_mlflow(work / "mlflow", work / "logs", mlflow_port).wait_ready(120))
            tracking_uri = f"http://127.0.0.1:{mlflow_port}"
            register_model(tracking_uri, work)
            processes.append(start_endpoint_router(work / "endpoints", work / "logs", router_port, key).wait_ready(30))
            endpoints = LocalOnlineEndpoints(work / "endpoints", tracking_uri, f"http://127.0.0.1:{router_port}", key,
                                             python=training_python())
            endpoints.ensure_endpoint(ENDPOINT)
            started = time.perf_counter()
            endpoints.create_or_update_deployment(ENDPOINT, DEPLOYMENT, MODEL, "1", timeout_seconds=180)
            print(f"deployment ready in {time.perf_counter() - started:.1f}s")
            endpoints.set_traffic(ENDPOINT, {DEPLOYMENT: 100})
            state = json.loads(endpoint_state.state_file(work / "endpoints", ENDPOINT).read_text())
            server_port = state["deployments"][DEPLOYMENT]["port"]

            results = measure(router_port, server_port, key, args.requests, args.warmup)
            for name, label in (("router", "through the router"), ("direct", "scoring server directly")):
                stats = results[name]
                print(f"{label:26s} p50 {stats['p50']:6.2f} ms   p90 {stats['p90']:6.2f} ms   p99 {stats['p99']:6.2f} ms")
            router_p50, direct_p50 = results["router"]["p50"], results["direct"]["p50"]
            print(f"router overhead: +{router_p50 - direct_p50:.2f} ms at p50 "
                  f"(ratio {router_p50 / direct_p50:.2f}x), {args.requests} one-row requests each")
            print(json.dumps({"median_ms": {"router": round(router_p50, 3), "direct": round(direct_p50, 3)},
                              "results_ms": {k: {q: round(v, 3) for q, v in s.items()} for k, s in results.items()}}))
        finally:
            if endpoints is not None:
                try:
                    endpoints.set_traffic(ENDPOINT, {})
                    endpoints.delete_deployment(ENDPOINT, DEPLOYMENT)
                except Exception as error:  # noqa: BLE001 - still stop the rest
                    print(f"cleanup: {error}", file=sys.stderr)
            for process in reversed(processes):
                process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
