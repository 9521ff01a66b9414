"""Shared by the MLflow API tests (no tests here): the emulator built and served in this process
(real HTTPS, every part registered, Event Grid replaced by a recorder) on a real Azurite (HTTPS)
and a real backing MLflow server; scripts run as the training job (.venv-train) and as the app
(.venv) in their own processes with the environment each gets."""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devstack.azure_processes import start_azurite_https
from devstack.azure_stack import AzurePorts, AzureStack
from devstack.processes import REPO_ROOT, start_mlflow
from emulators.azure import server, tls
from emulators.azure.arm.workspace import mlflow_tracking_uri
from tests.azure_emulator.conftest import azure_values

TRAIN_PYTHON = REPO_ROOT / ".venv-train" / "bin" / "python"
APP_PYTHON = Path(sys.executable)


@dataclass
class Recorder:
    """Stands in for Event Grid's publisher: what was published."""

    published: list[tuple[str, dict]] = field(default_factory=list)

    def publish(self, topic: str, event: dict) -> None:
        self.published.append((topic, event))


@dataclass
class MlflowWorld:
    stack: AzureStack
    emulator: server.Emulator
    events: Recorder

    @property
    def config(self):
        return self.emulator.config

    @property
    def tracking_uri(self) -> str:
        return mlflow_tracking_uri(self.config)

    def app_token(self, resource: str | None = None) -> str:
        return self.emulator.context.tokens.issue(resource or self.config.base_url + "/")[0]

    def job_env(self, job_name: str, experiment: str) -> dict[str, str]:
        """What Azure ML (the jobs part) gives a job's process."""
        return {**self._common_env(), "MLFLOW_TRACKING_URI": self.tracking_uri, "MLFLOW_RUN_ID": job_name,
                "MLFLOW_EXPERIMENT_NAME": experiment, "AZUREML_RUN_ID": job_name,
                "MLFLOW_TRACKING_TOKEN": self.emulator.context.tokens.issue_job_token(job_name)}

    def app_env(self) -> dict[str, str]:
        """The app's: managed identity and the emulator's cloud."""
        env = self._common_env()
        env.update({k: v for k, v in self.stack.app_env().items()
                    if k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_SUBSCRIPTION_ID",
                             "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE")})
        return env

    def _common_env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if k in ("PATH", "HOME", "LANG", "TMPDIR") or k.startswith("LC_")}
        return {**keep, "ARM_CLOUD_METADATA_URL": self.stack.metadata_url, "AZUREML_CURRENT_CLOUD": "AzureEmulator",
                **self.stack.trust_env(), "PYTHONPATH": str(REPO_ROOT), "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}


@contextmanager
def mlflow_world(root: Path):
    """Azurite + backing MLflow as processes, the emulator in this process; all stopped on exit."""
    stack = AzureStack(root, azure_values(), AzurePorts.free())
    config = stack.config
    processes = []
    emulator = None
    try:
        tls.ensure(config.root, config.location)
        folder = tls.tls_dir(config.root)
        processes.append(start_azurite_https(root / "azurite", stack.log_dir, stack.ports.blob, stack.ports.queue,
                                             folder / "server.pem", folder / "server-key.pem", stack.ca_file))
        processes.append(start_mlflow(root / "mlflow", stack.log_dir, stack.ports.mlflow, python=TRAIN_PYTHON))
        processes[-1].wait_ready(180)
        stack.create_containers()
        emulator = server.build(config)
        events = Recorder()
        emulator.context.events = events
        emulator.context.extras["mlflow_backing_db"] = root / "mlflow" / "mlflow.db"
        emulator.start()
        yield MlflowWorld(stack, emulator, events)
    finally:
        if emulator is not None:
            emulator.stop()
        for process in reversed(processes):
            process.stop()


def run_script(python: Path, script: str, env: dict[str, str], cwd: Path, *args: str) -> str:
    """Run `script` with `python`; its stdout (the test fails with its output when it fails)."""
    path = cwd / "script.py"
    path.write_text(script)
    done = subprocess.run([str(python), str(path), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{path.name} failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    return done.stdout
