"""The job's process: `bash -c <command>` in the code folder, in a session of its own (so a cancel
ends everything it started), with the environment Azure ML's runtime gives a command job and the
training environment's python first on PATH; stdout and stderr go to user_logs/std_log.txt."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from emulators.azure.arm.workspace import mlflow_host, mlflow_tracking_uri

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
KILL_GRACE_SECONDS = 5.0


def job_environment(context, job: dict[str, Any], experiment_id: str) -> dict[str, str]:
    """The variables Azure ML sets for a command job (and the job's own environmentVariables)."""
    config = context.config
    properties = job["properties"]
    name = job["name"]
    tracking_uri = mlflow_tracking_uri(config)
    training_bin = str(Path(config.training_python).parent)
    env = {
        "PATH": f"{training_bin}:{os.environ.get('PATH', BASE_PATH)}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONUNBUFFERED": "1",
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_RUN_ID": name,
        "MLFLOW_EXPERIMENT_NAME": properties.get("experimentName") or "Default",
        "MLFLOW_EXPERIMENT_ID": experiment_id,
        "MLFLOW_TRACKING_TOKEN": _job_token(context, name),
        "AZUREML_RUN_ID": name,
        "AZUREML_EXPERIMENT_ID": experiment_id,
        "AZUREML_ARM_SUBSCRIPTION": config.subscription_id,
        "AZUREML_ARM_RESOURCEGROUP": config.resource_group,
        "AZUREML_ARM_WORKSPACE_NAME": config.workspace,
        "AZUREML_ARM_PROJECT_NAME": properties.get("experimentName") or "Default",
        "AZUREML_SERVICE_ENDPOINT": f"https://{mlflow_host(config)}",
        "AZURE_TENANT_ID": config.tenant_id,
        "REQUESTS_CA_BUNDLE": str(config.ca_file),
        "SSL_CERT_FILE": str(config.ca_file),
        # The cloud the job runs in: azureml-mlflow reads its endpoints (authority, storage suffix) from
        # the cloud metadata; in Azure the defaults (AzureCloud) are right, here they name the emulator.
        "ARM_CLOUD_METADATA_URL": f"{config.base_url}/metadata/endpoints?api-version=2019-05-01",
        "AZUREML_CURRENT_CLOUD": "AzureEmulator",
    }
    for key in ("TMPDIR", "LD_LIBRARY_PATH"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    env.update({str(k): str(v) for k, v in (properties.get("environmentVariables") or {}).items()})
    return env


def _job_token(context, name: str) -> str:
    tokens = context.tokens
    return tokens.issue_job_token(name) if tokens is not None and hasattr(tokens, "issue_job_token") else ""


def start(command: str, cwd: Path, env: dict[str, str], log_file: Path) -> subprocess.Popen:
    """Start `bash -c command`; output appended to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    """End the process group: SIGTERM, then SIGKILL after a grace period."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def kill_group(process: subprocess.Popen) -> None:
    """After the command ended: whatever it left running in its session goes too."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
