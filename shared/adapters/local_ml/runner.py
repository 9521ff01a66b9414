"""Runs one local command job: materialise the data inputs, run the training script,
record status, log and outputs, then announce the outcome like Azure ML's RunStatusChanged.

Started by LocalMLPlatform as `python -m shared.adapters.local_ml.runner <job_dir>`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

from shared.adapters.local_ml.platform import _write_status, tail
from shared.domain.training import COMPLETED, FAILED, RUNNING, TRAINING_FLAGS



def main(job_dir: Path) -> int:
    spec = json.loads((job_dir / "spec.json").read_text())
    log_path = job_dir / "user_logs" / "std_log.txt"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _write_status(job_dir, {"status": RUNNING, "started_at": _now()})
    announce(spec, "Running")
    try:
        data_dir, manifest = materialise_inputs(spec, job_dir)
    except Exception as error:  # noqa: BLE001 - any input failure fails the job, with its reason
        return finish(job_dir, spec, FAILED, error=f"could not materialise data inputs: {error}")
    result_file = job_dir / "outputs" / "result.json"
    result_file.parent.mkdir(exist_ok=True)
    command = [
        sys.executable, spec["training_script"],
        "--data", str(data_dir),
        "--model-name", spec["model_name"],
        "--training-set", str(manifest),
        "--job-name", spec["job_name"],
        "--experiment", spec["experiment"],
        "--output-file", str(result_file),
    ]
    for key, value in spec.get("parameters", {}).items():
        if key in TRAINING_FLAGS:
            command += [TRAINING_FLAGS[key], str(value)]
    with open(log_path, "ab") as log:
        exit_code = subprocess.call(command, cwd=job_dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if exit_code != 0:
        return finish(job_dir, spec, FAILED, error=f"training script exited with code {exit_code}", log_tail=tail(log_path))
    result = json.loads(result_file.read_text())
    return finish(
        job_dir, spec, COMPLETED, log_tail=tail(log_path, 10),
        model_version=str(result.get("model_version") or "") or None,
        run_id=result.get("run_id"), metrics=result.get("metrics", {}),
    )


def materialise_inputs(spec: dict, job_dir: Path) -> tuple[Path, Path]:
    """Download each input file version (ETag-checked), as Azure ML's download mode would."""
    from azure.core import MatchConditions
    from azure.storage.blob import BlobServiceClient

    from shared.adapters.blob_storage import blob_service

    service: BlobServiceClient = blob_service(os.environ["AzureWebJobsStorage"])
    data_dir = job_dir / "inputs" / "training_data"
    for batch in spec["inputs"]:
        target = data_dir / batch["container"] / batch["name"]
        target.parent.mkdir(parents=True, exist_ok=True)
        blob = service.get_blob_client(batch["container"], batch["name"])
        downloader = blob.download_blob(etag=batch["etag"], match_condition=MatchConditions.IfNotModified)
        with open(target, "wb") as handle:
            for chunk in downloader.chunks():
                handle.write(chunk)
    manifest = job_dir / "inputs" / "training_set.json"
    manifest.write_text(json.dumps({
        "id": spec["training_set_id"],
        "batches": [{"name": f"{b['container']}/{b['name']}", "etag": b["etag"], "sha256": b["sha256"]} for b in spec["inputs"]],
    }, indent=2))
    return data_dir, manifest


def finish(job_dir: Path, spec: dict, status: str, **details) -> int:
    _write_status(job_dir, {"status": status, "finished_at": _now(), **details})
    announce(spec, "Completed" if status == COMPLETED else "Failed")
    return 0 if status == COMPLETED else 1


def announce(spec: dict, run_status: str) -> None:
    """Event Grid-shaped RunStatusChanged to the local Functions host; best effort (the service also polls)."""
    url = os.environ.get("LOCAL_JOB_EVENTS_URL")
    if not url:
        return
    event = [{
        "id": str(uuid.uuid4()),
        "topic": "/local/ml",
        "subject": f"experiments/{spec['experiment']}/runs/{spec['job_name']}",
        "eventType": "Microsoft.MachineLearningServices.RunStatusChanged",
        "eventTime": _now(),
        "dataVersion": "2",
        "metadataVersion": "1",
        "data": {"runId": spec["job_name"], "experimentName": spec["experiment"], "runStatus": run_status},
    }]
    headers = {"Content-Type": "application/json", "aeg-event-type": "Notification"}
    if os.environ.get("LOCAL_JOB_EVENTS_KEY"):
        headers["x-functions-key"] = os.environ["LOCAL_JOB_EVENTS_KEY"]
    request = urllib.request.Request(url, json.dumps(event).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except OSError as error:
        print(f"could not announce {run_status}: {error.__class__.__name__}", file=sys.stderr)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
