"""The main job on the local stack: a data file dropped into storage becomes a registered model.

`make demo` runs it after setting everything up. It starts the stack, uploads
data/diabetes-dev.csv, follows the file through validation, training and registration
over the app's own HTTP API, prints each step with its time and a summary, then stops
everything it started.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone

from devstack.client import ApiClient, upload_file, wait_for
from devstack.processes import REPO_ROOT, port_is_open
from devstack.stack import Ports, default_stack


class Steps:
    def __init__(self):
        self.started = time.monotonic()
        self.last = self.started
        self.rows: list[tuple[str, float]] = []

    def done(self, name: str, detail: str = "") -> None:
        now = time.monotonic()
        self.rows.append((name, now - self.last))
        print(f"  [{now - self.started:6.1f}s] {name:<38} +{now - self.last:5.1f}s  {detail}", flush=True)
        self.last = now


def main() -> int:
    busy = [p for p in (Ports.blob, Ports.mlflow, Ports.host) if port_is_open(p)]
    if busy:
        print(f"ports {busy} are in use: is a stack already running? (`make down`)", file=sys.stderr)
        return 1
    stack = default_stack()
    steps = Steps()
    print("retraining service demo: new data file → validated → training job → registered model\n")
    try:
        stack.start(step=lambda name: None)
        steps.done("local stack started", f"azurite, mlflow, functions host at {stack.host_url}")
        return run_loop(stack, steps)
    except (TimeoutError, RuntimeError) as error:
        print(f"\ndemo failed: {error}\nlogs: {stack.log_dir}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("\nstack stopped")


def run_loop(stack, steps: Steps) -> int:
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
    steps.done("model registered, webhook received", f"version {version['version']} via {version['source']}")
    print_summary(stack, job, version, steps)
    return 0


def _batch(api: ApiClient, name: str):
    files = api.get_json("/api/data")["files"]
    return next((f for f in files if f["name"] == name and f["status"] != "received"), None)


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
    print(f"  total time      {sum(t for _, t in steps.rows):.1f}s")
    print("\nwhere to look")
    print(f"  MLflow UI       {stack.tracking_uri}/#/models/{version['model_name']}  (while `make up` runs)")
    print(f"  status API      {stack.host_url}/api/data, /api/jobs, /api/models  (x-functions-key: LOCAL_HOST_FUNCTION_KEY)")
    print(f"  job folder      {stack.root / 'jobs' / job['name']}")
    print(f"  logs            {stack.log_dir}")


if __name__ == "__main__":
    sys.exit(main())
