"""The whole local stack: Azurite, the MLflow server (with its registry webhook pointing at
the app) and the local Functions host serving function_app.

`python -m devstack.stack` (make up) runs it in the foreground until Ctrl-C;
`python -m devstack.stack --down` (make down) stops a stack started elsewhere.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devstack.local_settings import load_values
from devstack.processes import (
    PYTHON,
    REPO_ROOT,
    ManagedProcess,
    StackProcesses,
    azurite_connection_string,
    start_azurite,
    start_endpoint_router,
    start_mlflow,
    training_python,
)
from shared.adapters.local_ml.processes import signal_group

WEBHOOK_NAME = "retrain-service-model-registered"


@dataclass(frozen=True)
class Ports:
    blob: int = 10000
    queue: int = 10001
    mlflow: int = 5000
    host: int = 7071
    endpoint: int = 5001


@dataclass
class LocalStack(StackProcesses):
    root: Path
    values: dict[str, str]
    ports: Ports = Ports()
    processes: list[ManagedProcess] = field(default_factory=list)

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.host}"

    @property
    def tracking_uri(self) -> str:
        return f"http://127.0.0.1:{self.ports.mlflow}"

    @property
    def storage_connection(self) -> str:
        return azurite_connection_string(self.ports.blob, self.ports.queue)

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    def app_env(self) -> dict[str, str]:
        """The app settings, pointed at this stack's ports and folders."""
        return {
            **self.values,
            "AzureWebJobsStorage": self.storage_connection,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "LOCAL_JOBS_DIR": str(self.root / "jobs"),
            "LOCAL_JOB_EVENTS_URL": f"{self.host_url}/runtime/webhooks/eventgrid?functionName=on_job_status_changed",
            "PUBLIC_BASE_URL": self.host_url,
            "LOCAL_ENDPOINTS_DIR": str(self.endpoints_dir),
            "LOCAL_ENDPOINT_URL": self.endpoint_url,
        }

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.endpoint}"

    @property
    def endpoints_dir(self) -> Path:
        return self.root / "endpoints"

    def start(self, step=lambda name: None) -> "LocalStack":
        try:
            step("azurite")
            self._add(start_azurite(self.root / "azurite", self.log_dir, self.ports.blob, self.ports.queue)).wait_ready()
            step("mlflow")
            self._add(start_mlflow(self.root / "mlflow", self.log_dir, self.ports.mlflow,
                                   python=training_python(self.values))).wait_ready(120)
            step("endpoint router")
            self._add(start_endpoint_router(self.endpoints_dir, self.log_dir, self.ports.endpoint,
                                            self.values["LOCAL_ENDPOINT_KEY"])).wait_ready(30)
            restored = self.restore_deployments()
            if restored:
                step(f"restored deployments {', '.join(restored)}")
            step("functions host")
            self.start_host()
            step("mlflow webhook")
            register_webhook(self.tracking_uri, f"{self.host_url}/api/mlflow/webhook", self.values["MLFLOW_WEBHOOK_SECRET"])
        except BaseException:
            self.stop()
            raise
        self._write_pids()
        return self

    def restore_deployments(self) -> list[str]:
        """Restart the scoring servers of the deployments recorded before the last stop (as Azure keeps them)."""
        from emulator_formats import endpoint_state
        from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints

        endpoints = LocalOnlineEndpoints(self.endpoints_dir, self.tracking_uri, self.endpoint_url,
                                         self.values["LOCAL_ENDPOINT_KEY"], python=training_python(self.values))
        restored = []
        for state_file in sorted(self.endpoints_dir.glob(f"*/{endpoint_state.STATE_FILE}")):
            endpoint = endpoints.get_endpoint(state_file.parent.name)
            for deployment in endpoint.deployments:
                if deployment.state == "Succeeded":
                    continue
                try:
                    endpoints.create_or_update_deployment(endpoint.name, deployment.name,
                                                          deployment.model_name, deployment.model_version)
                    restored.append(deployment.name)
                except Exception as error:  # noqa: BLE001 - the sweeper reports what stays broken
                    print(f"could not restore deployment {deployment.name}: {error}", file=sys.stderr)
        return restored

    def stop(self) -> None:
        self._stop_processes()
        stop_deployments(self.endpoints_dir)
        self._pid_file().unlink(missing_ok=True)


def register_webhook(tracking_uri: str, url: str, secret: str) -> None:
    """Point the registry's model_version.created webhook at the app (create or update: idempotent)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    existing = [w for w in client.list_webhooks() if w.name == WEBHOOK_NAME]
    if existing:
        client.update_webhook(existing[0].webhook_id, url=url, secret=secret, events=["model_version.created"], status="ACTIVE")
    else:
        client.create_webhook(WEBHOOK_NAME, url, events=["model_version.created"], secret=secret,
                              description="Model registered → retraining service (plays Event Grid's role locally)")


def stop_deployments(endpoints_dir: Path) -> list[str]:
    """Stop the scoring servers the app started for its deployments."""
    from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints

    if not endpoints_dir.exists():
        return []
    # Stopping needs neither the registry, the router nor the training environment: placeholders here.
    return LocalOnlineEndpoints(endpoints_dir, "http://127.0.0.1:0", "http://127.0.0.1:0", "",
                                python=Path(PYTHON)).stop_servers()


def stop_recorded_stack(root: Path) -> int:
    pid_file = root / "stack.pids"
    if not pid_file.exists():
        print("no local stack is recorded as running")
        return 0
    for name, recorded in json.loads(pid_file.read_text()).items():
        pid, pid_start = (recorded, None) if isinstance(recorded, int) else (recorded["pid"], recorded["start_time"])
        if signal_group(pid, signal.SIGTERM, pid_start):
            print(f"stopped {name} (pid {pid})")
    pid_file.unlink()
    for name in stop_deployments(root / "endpoints"):
        print(f"stopped deployment {name}")
    return 0


def default_stack() -> LocalStack:
    return LocalStack(REPO_ROOT / ".local", load_values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", action="store_true", help="stop a stack started by `make up`")
    args = parser.parse_args(argv)
    if args.down:
        return stop_recorded_stack(REPO_ROOT / ".local")
    stack = default_stack()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stack.start(step=lambda name: print(f"starting {name} ...", flush=True))
    print(f"""
local stack running (Ctrl-C stops everything):
  functions host  {stack.host_url}   (function key: local.settings.json LOCAL_HOST_FUNCTION_KEY)
  mlflow          {stack.tracking_uri}
  endpoint        {stack.endpoint_url}/endpoints/<ENDPOINT_NAME>/score   (Bearer LOCAL_ENDPOINT_KEY)
  azurite blob    http://127.0.0.1:{stack.ports.blob}/devstoreaccount1
  logs            {stack.log_dir}
""", flush=True)
    return stack.run_until_interrupted()


if __name__ == "__main__":
    sys.exit(main())
