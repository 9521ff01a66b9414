"""The main job on the local stack: a data file dropped into storage becomes the model in production.

`make demo` runs it after setting everything up. On a fresh stack (in .local/demo) it uploads
data/diabetes-dev.csv and follows it over the app's own HTTP API: validation, training,
registration, quality gate, staging deployment, smoke test, approval request (its link
printed), approval through the HTTP API, and predictions from the production endpoint for
rows of diabetes-prod.csv. It prints each step with its time and a summary, then stops
everything it started.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
from datetime import datetime, timezone

from devstack.client import ApiClient, upload_file, wait_for
from devstack.processes import REPO_ROOT, port_is_open
from devstack.stack import LocalStack, Ports
from devstack.local_settings import load_values


class Steps:
    def __init__(self):
        self.started = time.monotonic()
        self.last = self.started
        self.rows: list[tuple[str, float]] = []

    def done(self, name: str, detail: str = "", took: float | None = None) -> None:
        """Record a step; `took` when the app's own records time it better than our polling."""
        now = time.monotonic()
        took = now - self.last if took is None else took
        self.rows.append((name, took))
        print(f"  [{now - self.started:6.1f}s] {name:<38} +{took:5.1f}s  {detail}", flush=True)
        self.last = now


def run_demo(folder: str, title: str, overrides: dict[str, str], body) -> int:
    """Start a fresh stack in .local/<folder>, run body(stack, steps), always stop what was started."""
    ports = Ports()
    busy = [p for p in (ports.blob, ports.mlflow, ports.host, ports.endpoint) if port_is_open(p)]
    if busy:
        print(f"ports {busy} are in use: is a stack already running? (`make down`)", file=sys.stderr)
        return 1
    root = REPO_ROOT / ".local" / folder
    shutil.rmtree(root, ignore_errors=True)  # every demo starts from an empty registry and storage
    stack = LocalStack(root, {**load_values(), **overrides}, ports)
    steps = Steps()
    print(title + "\n")
    try:
        stack.start()
        steps.done("local stack started", f"azurite, mlflow, endpoint, functions host at {stack.host_url}")
        return body(stack, steps)
    except (TimeoutError, RuntimeError) as error:
        print(f"\ndemo failed: {error}\nlogs: {stack.log_dir}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("\nstack stopped")


def main() -> int:
    return run_demo("demo", "retraining service demo: new data → validated → trained → registered → gate → "
                    "staging → approval → production", {}, run_loop)


def run_loop(stack, steps: Steps, score=None, summary=None) -> int:
    """The loop over the app's HTTP API; `score(stack, body)` asks the production endpoint (default:
    the local endpoint router), `summary(stack, job, version, steps)` prints the summary."""
    api = ApiClient(stack.host_url, stack.values["LOCAL_HOST_FUNCTION_KEY"])
    container = stack.values.get("DATA_CONTAINER", "data")
    name = f"incoming/diabetes-dev-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.csv"
    upload_file(stack.storage_connection, container, name, (REPO_ROOT / "data" / "diabetes-dev.csv").read_bytes())
    steps.done("uploaded diabetes-dev.csv", f"{container}/{name}")

    batch = wait_for("the file to be validated", lambda: _batch(api, name), 60)
    steps.done(f"file {batch['status']}", batch["summary"])
    if batch["status"] != "accepted":
        return 1

    job = wait_for("a training job on the file", lambda: _job_with(api, name), 120)
    steps.done("training job submitted", f"{job['name']} on {len(job['batches'])} file(s)")
    job = wait_for("the training job to finish", lambda: _finished(api, job["name"]), 300)
    steps.done(f"training job {job['status']}", job.get("error", ""))
    if job["status"] != "completed":
        print(job.get("log_tail", ""))
        return 1

    version = wait_for("the model-registered webhook", lambda: _registered(api, job), 60)
    steps.done("model registered, event received", f"version {version['version']} via {version['source']}")

    candidate = wait_for("the quality gate, staging deployment and smoke test",
                         lambda: _candidate_settled(api, version["version"]), 180)
    gate = candidate["gate"]
    at = {h["status"]: datetime.fromisoformat(h["at"]).timestamp() for h in candidate["history"]}
    steps.done(f"quality gate {'passed' if gate.get('passed') else 'failed'}",
               f"{gate.get('metric')} {gate.get('candidate', {}).get(gate.get('metric'), 0):.3f}, {gate.get('evaluated_on', '')}",
               took=at.get("deploying", at.get("gate_failed", 0)) - at.get("gating", 0))
    if candidate["status"] != "awaiting_approval":
        print(f"candidate ended {candidate['status']}: {candidate['history'][-1]['detail']}")
        return 1
    smoke = candidate["smoke"]
    steps.done("staging deployed, smoke test passed", f"{candidate['deployment']} at 0% traffic, "
               f"{smoke['rows']} rows in {smoke['latency_ms']:.0f} ms", took=at["awaiting_approval"] - at["deploying"])
    approval = api.get_json(f"/api/approvals/{candidate['approval_id']}")
    steps.done("approval requested", approval["id"])
    print(f"      approve link (signed, single use): {approval['links']['Approve']}")

    decided = api.request("POST", f"/api/approvals/{approval['id']}/approve",
                          {"reviewer": "make-demo", "comment": "approved by the demo"})
    if decided.status != 202:
        print(f"approval failed: HTTP {decided.status} {decided.body[:300]!r}")
        return 1
    outcome = wait_for("the promotion", lambda: next(
        (a for a in [api.get_json(f"/api/approvals/{approval['id']}")] if a["status"] != "deciding"), None), 120)
    if outcome["status"] != "approved":
        print(f"promotion ended {outcome['status']}: {outcome['reason']}")
        return 1
    steps.done("approved through the HTTP API", "claimed (202), health-checked, 100% of live traffic to the candidate")

    rows, labels, predictions = _score_production(stack, score or _score_local)
    steps.done("production endpoint answered", f"{len(predictions)} rows of diabetes-prod.csv")
    (summary or print_summary)(stack, job, version, steps)
    print("\nproduction predictions (diabetes-prod.csv)")
    for row, label, prediction in zip(rows, labels, predictions):
        print(f"  patient {row[0]:>8}  predicted {prediction}  actual {label}")
    return 0


def _number(text: str):
    return float(text) if "." in text else int(text)


def _candidate_settled(api: ApiClient, version: str):
    candidates = api.get_json("/api/candidates")["candidates"]
    found = next((c for c in candidates if c["version"] == version), None)
    return found if found and found["status"] not in ("received", "gating", "deploying") else None


def _score_production(stack, score) -> tuple[list[list[str]], list[str], list[int]]:
    lines = (REPO_ROOT / "data" / "diabetes-prod.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:9]]
    features = [i for i, name in enumerate(header) if name not in ("PatientID", "Diabetic")]
    body = {"input_data": {"columns": [header[i] for i in features], "index": list(range(len(rows))),
                           "data": [[_number(row[i]) for i in features] for row in rows]}}
    predictions = score(stack, body)
    return rows, [row[header.index("Diabetic")] for row in rows], predictions


def _score_local(stack, body: dict) -> list:
    request = urllib.request.Request(
        f"{stack.endpoint_url}/endpoints/{stack.values['ENDPOINT_NAME']}/score", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {stack.values['LOCAL_ENDPOINT_KEY']}"},
        method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _batch(api: ApiClient, name: str):
    files = api.get_json("/api/data")["files"]
    return next((f for f in files if f["name"] == name), None)


def _job_with(api: ApiClient, name: str):
    return next((j for j in api.get_json("/api/jobs")["jobs"] if any(b["name"] == name for b in j["batches"])), None)


def _finished(api: ApiClient, job_name: str):
    job = api.get_json(f"/api/jobs/{job_name}")
    return job if job["status"] in ("completed", "failed", "canceled") else None


def _registered(api: ApiClient, job: dict):
    versions = api.get_json("/api/models")["versions"]
    return next((v for v in versions if v.get("tags", {}).get("job_name") == job["name"]), None)


def print_summary(stack, job: dict, version: dict, steps: Steps) -> None:
    metrics = job.get("metrics", {})
    print("\nsummary")
    print(f"  model           {version['model_name']} version {version['version']}")
    print(f"  trained by      {job['name']} on {len(job['batches'])} data file(s), training set {job['training_set_id'][:12]}")
    print("  metrics         " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(metrics.items())))
    print(f"  total time      {time.monotonic() - steps.started:.1f}s")
    print("\nwhere to look")
    print(f"  MLflow UI       {stack.tracking_uri}/#/models/{version['model_name']}  (while `make up` runs)")
    print(f"  status API      {stack.host_url}/api/data, /api/jobs, /api/models  (x-functions-key: LOCAL_HOST_FUNCTION_KEY)")
    print(f"  job folder      {stack.root / 'jobs' / job['name']}")
    print(f"  logs            {stack.log_dir}")


if __name__ == "__main__":
    sys.exit(main())
