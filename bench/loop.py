"""Benchmark: the data loop on the local stack, stage by stage.

    .venv/bin/python bench/loop.py [--runs 3] [--quiet-period 2]

Starts its own stack on free ports (temporary folder), uploads diabetes-dev.csv `--runs`
times and measures, per run:
  upload → job submitted   (minus the configured quiet period)
  training                 (the job's own start → finish, from its status file)
  registered → webhook     (MLflow's creation timestamp → the app's record of the event)
Prints each run and the medians.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.client import ApiClient, upload_file, wait_for  # noqa: E402
from devstack.processes import free_port  # noqa: E402
from devstack.stack import LocalStack, Ports  # noqa: E402
from tests.e2e.conftest import stack_values  # noqa: E402


def one_run(stack: LocalStack, api: ApiClient, quiet: float) -> dict:
    name = f"bench/dev-{uuid.uuid4().hex[:8]}.csv"
    data = (ROOT / "data" / "diabetes-dev.csv").read_bytes()
    uploaded = time.time()
    upload_file(stack.storage_connection, "data", name, data)

    def job_with_file():
        return next((j for j in api.get_json("/api/jobs")["jobs"] if any(b["name"] == name for b in j["batches"])), None)

    job = wait_for("job", job_with_file, 60, interval=0.05)
    submitted = datetime.fromisoformat(job["submitted_at"]).timestamp()
    job = wait_for("finish", lambda: (j := api.get_json(f"/api/jobs/{job['name']}"))["status"] in ("completed", "failed") and j, 300)
    status = json.loads((stack.root / "jobs" / job["name"] / "status.json").read_text())
    runner_log = (stack.root / "jobs" / job["name"] / "user_logs" / "std_log.txt")
    started = (stack.root / "jobs" / job["name"] / "spec.json").stat().st_mtime
    finished = datetime.fromisoformat(status["finished_at"]).timestamp()
    version = wait_for("webhook", lambda: next(
        (v for v in api.get_json("/api/models")["versions"] if v["tags"].get("job_name") == job["name"]), None), 60)
    from mlflow import MlflowClient

    created = MlflowClient(stack.tracking_uri).get_model_version(version["model_name"], version["version"]).creation_timestamp / 1000
    received = datetime.fromisoformat(version["received_at"]).timestamp()
    assert runner_log.exists()
    return {
        "upload_to_job_started_s": submitted - uploaded - quiet,
        "training_s": finished - started,
        "registered_to_webhook_s": received - created,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quiet-period", type=float, default=2.0)
    args = parser.parse_args()
    ports = Ports(blob=free_port(), queue=free_port(), mlflow=free_port(), host=free_port())
    values = stack_values(TRAINING_QUIET_PERIOD_SECONDS=str(args.quiet_period), TRAINING_ALGORITHM="gradient_boosting")
    stack = LocalStack(Path(tempfile.mkdtemp(prefix="bench-loop-")), values, ports)
    stack.start()
    try:
        api = ApiClient(stack.host_url, values["LOCAL_HOST_FUNCTION_KEY"])
        runs = []
        for i in range(args.runs):
            runs.append(one_run(stack, api, args.quiet_period))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), flush=True)
    finally:
        stack.stop()
    print(f"\nmedians over {args.runs} runs (quiet period {args.quiet_period}s, diabetes-dev.csv, gradient boosting):")
    targets = {"upload_to_job_started_s": 2.0, "training_s": 15.0, "registered_to_webhook_s": 2.0}
    for key, target in targets.items():
        print(f"  {key:<26} {statistics.median(r[key] for r in runs):6.2f} s   (target <= {target} s)")


if __name__ == "__main__":
    main()
