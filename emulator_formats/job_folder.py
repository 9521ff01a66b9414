"""A local command job's folder: prepared by the app's local ML platform adapter, run and filled
in by the job runner emulator.

    spec.json                  the job, written once at submission (below)
    status.json                {"status", "started_at", "finished_at", "error",
                                "model_version", "run_id", "metrics"}; replaced atomically
    runner.pid                 "<pid> <start time>" of the runner process
    runner.log                 the runner's own output
    inputs/training_set.json   the training set's manifest (written at submission)
    inputs/training_data/<file>   the input blobs, downloaded by the runner under short names
                                  (`input_file`: hash-based, whatever the blob's name)
    user_logs/std_log.txt      the command's output (Azure ML's name for it)
    outputs/result.json        what the command reports: {"model_version", "run_id", "metrics", ...}

spec.json: {"job_name", "experiment",
            "inputs": [{"container", "blob", "etag", "sha256", "file"}],   blobs to download to
                       training_data/<file>; "etag": "" reads the blob as it is (immutable copies),
                       "sha256" is checked against the downloaded bytes
            "python": <interpreter>,   the job's environment (Azure ML: the job's environment)
            "command": [<script>, <argument>, ...]}                run by that interpreter
"""
from __future__ import annotations

import json
from pathlib import Path

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"

SPEC_FILE = "spec.json"
STATUS_FILE = "status.json"
RUNNER_PID_FILE = "runner.pid"
RUNNER_LOG_FILE = "runner.log"


def training_set_file(job_dir: Path) -> Path:
    return job_dir / "inputs" / "training_set.json"


def training_data_dir(job_dir: Path) -> Path:
    return job_dir / "inputs" / "training_data"


def input_file(version_id: str) -> str:
    """The file one input is downloaded to: short and path-safe (a file name has at most 255 bytes)."""
    if not version_id.isascii() or not version_id.isalnum() or not 1 <= len(version_id) <= 64:
        raise ValueError(f"input id {version_id[:80]!r} must be 1-64 ASCII letters and digits")
    return f"{version_id}.csv"


def log_file(job_dir: Path) -> Path:
    return job_dir / "user_logs" / "std_log.txt"


def result_file(job_dir: Path) -> Path:
    return job_dir / "outputs" / "result.json"


def write_spec(job_dir: Path, spec: dict) -> None:
    (job_dir / SPEC_FILE).write_text(json.dumps(spec, indent=2))


def read_spec(job_dir: Path) -> dict:
    return json.loads((job_dir / SPEC_FILE).read_text())


def write_status(job_dir: Path, status: dict) -> None:
    """Replace status.json whole, so that a reader never sees half of it."""
    temporary = job_dir / f"{STATUS_FILE}.tmp"
    temporary.write_text(json.dumps(status, indent=2))
    temporary.replace(job_dir / STATUS_FILE)


def read_status(job_dir: Path) -> dict | None:
    """The job's status, or None when the folder holds no job."""
    try:
        return json.loads((job_dir / STATUS_FILE).read_text())
    except FileNotFoundError:
        return None
