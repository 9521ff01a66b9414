"""The app against the loopback Azure emulator: Azurite (HTTPS, OAuth), the MLflow server behind
Azure ML's MLflow API, the emulator (`python -m emulators.azure`) and the local Functions host
running the app with ML_BACKEND=azure.

`python -m devstack.azure_stack` (make up-azure) runs it in the foreground until Ctrl-C;
`--down` stops a stack started elsewhere.
"""
from __future__ import annotations

import argparse
import secrets
import signal
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from devstack.azure_processes import kill_children, start_azurite_https, start_emulator, stop_recorded_stack
from devstack.local_settings import load_values
from devstack.processes import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    REPO_ROOT,
    ManagedProcess,
    StackProcesses,
    free_port,
    start_mlflow,
    training_python,
)
from emulators.azure import config as emulator_config
from emulators.azure import tls
from emulators.azure.context import EmulatorConfig

APP_CONTAINERS = ("DATA_CONTAINER", "QUARANTINE_CONTAINER", "STATE_CONTAINER", "AUDIT_CONTAINER", "REPORTS_CONTAINER")
# Settings only the local backend reads; left out so nothing reaches the local stack's ports by mistake.
LOCAL_ONLY = ("MLFLOW_TRACKING_URI", "LOCAL_JOB_EVENTS_URL", "LOCAL_ENDPOINT_URL", "LOCAL_ENDPOINTS_DIR", "LOCAL_JOBS_DIR")


@dataclass(frozen=True)
class AzurePorts:
    blob: int = 10200
    queue: int = 10201
    mlflow: int = 5200
    https: int = 8443  # the emulator: ARM, MLflow API, scoring URIs, /_emulator
    identity: int = 8444  # the managed-identity endpoint (plain HTTP)
    host: int = 7171  # the Functions host

    @classmethod
    def free(cls) -> "AzurePorts":
        """Ports nothing listens on right now (tests)."""
        return cls(**{f.name: free_port() for f in fields(cls)})


@dataclass
class AzureStack(StackProcesses):
    """The processes of the emulated Azure and the app's host, started in order, stopped in reverse.

    `emulator` overrides EmulatorConfig fields (e.g. time_scale, lro_seconds); `app` overrides app
    settings on top of local.settings.json's values and the stack's own."""

    root: Path
    values: dict[str, str]
    ports: AzurePorts = AzurePorts()
    emulator: dict[str, Any] = field(default_factory=dict)
    app: dict[str, str] = field(default_factory=dict)
    processes: list[ManagedProcess] = field(default_factory=list)
    identity_header: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    blobs_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    eventgrid_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def emulator_root(self) -> Path:
        return self.root / "emulator"

    @property
    def ca_file(self) -> Path:
        return self.config.ca_file

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.host}"

    @property
    def emulator_url(self) -> str:
        return self.config.base_url

    @property
    def identity_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports.identity}/msi/token"

    @property
    def metadata_url(self) -> str:
        return f"{self.emulator_url}/metadata/endpoints?api-version=2019-05-01"

    @property
    def blob_account_url(self) -> str:
        """The account's production-style URL (what the SDK builds from the cloud's storage suffix)."""
        return f"https://{AZURITE_ACCOUNT}.blob.localhost:{self.ports.blob}"

    @property
    def backing_mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.mlflow}"

    @property
    def storage_connection(self) -> str:
        return (f"DefaultEndpointsProtocol=https;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint=https://127.0.0.1:{self.ports.blob}/{AZURITE_ACCOUNT};"
                f"QueueEndpoint=https://127.0.0.1:{self.ports.queue}/{AZURITE_ACCOUNT};")

    @property
    def requests_trail(self) -> Path:
        return self.emulator_root / "requests.jsonl"

    @property
    def config(self) -> EmulatorConfig:
        """The emulator's settings for this stack."""
        base = EmulatorConfig(
            root=self.emulator_root, repo_root=REPO_ROOT, https_port=self.ports.https,
            identity_port=self.ports.identity, identity_header=self.identity_header,
            storage_connection=self.storage_connection, storage_account=AZURITE_ACCOUNT,
            blob_suffix=f"localhost:{self.ports.blob}", mlflow_backing_url=self.backing_mlflow_url,
            training_python=training_python(self.values), host_url=self.host_url,
            blobs_extension_key=self.blobs_key, eventgrid_extension_key=self.eventgrid_key,
            data_container=self.values.get("DATA_CONTAINER", "data"))
        return replace(base, **self.emulator)

    def trust_env(self) -> dict[str, str]:
        return {"REQUESTS_CA_BUNDLE": str(self.ca_file), "SSL_CERT_FILE": str(self.ca_file)}

    def app_env(self) -> dict[str, str]:
        """The app settings under the emulator (the spec's list, on top of local.settings.json)."""
        config = self.config
        values = {k: v for k, v in self.values.items() if k not in LOCAL_ONLY}
        return {
            **values,
            "ML_BACKEND": "azure",
            "AZURE_SUBSCRIPTION_ID": config.subscription_id,
            "AZURE_RESOURCE_GROUP": config.resource_group,
            "AZUREML_WORKSPACE": config.workspace,
            "AZUREML_ENVIRONMENT": "environment/conda.yml",
            "IDENTITY_ENDPOINT": self.identity_endpoint,
            "IDENTITY_HEADER": self.identity_header,
            "ARM_CLOUD_METADATA_URL": self.metadata_url,
            "AZUREML_CURRENT_CLOUD": "AzureEmulator",
            **self.trust_env(),
            "AzureWebJobsStorage": self.storage_connection,
            "DATA_COLLECTOR_ACCOUNT_URL": self.blob_account_url,
            "DATA_COLLECTOR_CONTAINER": config.workspace_container,
            "LOCAL_HOST_BLOBS_KEY": self.blobs_key,
            "LOCAL_HOST_EVENTGRID_KEY": self.eventgrid_key,
            "PUBLIC_BASE_URL": self.host_url,
            "DEVHOST_EVENTGRID_BLOB_SCAN": "0",  # BlobCreated comes from the emulator's Event Grid
            **self.app,
        }

    def start(self, step=lambda name: None, host: bool = True, mlflow: bool = True) -> "AzureStack":
        """Start everything (the MLflow server only when `mlflow`, the Functions host only when
        `host`); on failure stop what started."""
        try:
            config = self.config
            tls.ensure(config.root, config.location)
            step("azurite")
            folder = tls.tls_dir(config.root)
            self._add(start_azurite_https(self.root / "azurite", self.log_dir, self.ports.blob, self.ports.queue,
                                          folder / "server.pem", folder / "server-key.pem", self.ca_file))
            if mlflow:
                step("mlflow")
                self._add(start_mlflow(self.root / "mlflow", self.log_dir, self.ports.mlflow,
                                       python=training_python(self.values))).wait_ready(120)
            step("containers")
            self.create_containers()
            step("azure emulator")
            config_file = emulator_config.save(config, self.root / "emulator-config.json")
            self._add(start_emulator(config_file, config.base_url, self.log_dir, self.trust_env(), self.ca_file))
            if host:
                step("functions host")
                self.start_host()
        except BaseException:
            self.stop()
            raise
        self._write_pids()
        return self

    def create_containers(self) -> list[str]:
        """The app's containers, the workspace blob store and the dead-letter container."""
        config = self.config
        names = {self.values.get(setting, "") for setting in APP_CONTAINERS}
        names |= {config.data_container, config.workspace_container, config.dead_letter_container}
        service = self.blob_service()
        for name in sorted(n for n in names if n):
            container = service.get_container_client(name)
            if not container.exists():
                container.create_container()
        return sorted(n for n in names if n)

    def blob_service(self):
        """A BlobServiceClient on this stack's Azurite (account key, trusting the CA)."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.storage_connection, connection_verify=str(self.ca_file))

    def stop(self) -> None:
        """Stop the processes in reverse order, then whatever the emulator left running."""
        self._stop_processes()
        kill_children(self.emulator_root)
        self._pid_file().unlink(missing_ok=True)


DEFAULT_ROOT = REPO_ROOT / ".local" / "azure"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", action="store_true", help="stop a stack started by `make up-azure`")
    args = parser.parse_args(argv)
    if args.down:
        return stop_recorded_stack(DEFAULT_ROOT)
    stack = AzureStack(DEFAULT_ROOT, load_values())
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stack.start(step=lambda name: print(f"starting {name} ...", flush=True))
    print(f"""
Azure emulator stack running (Ctrl-C stops everything):
  functions host  {stack.host_url}   (ML_BACKEND=azure; function key: local.settings.json LOCAL_HOST_FUNCTION_KEY)
  emulator        {stack.emulator_url}   (ARM, MLflow API, scoring; control API /_emulator/...)
  identity        {stack.identity_endpoint}
  azurite blob    {stack.blob_account_url}   (HTTPS; CA {stack.ca_file})
  backing mlflow  {stack.backing_mlflow_url}
  request trail   {stack.requests_trail}
  logs            {stack.log_dir}
""", flush=True)
    return stack.run_until_interrupted()


if __name__ == "__main__":
    sys.exit(main())
