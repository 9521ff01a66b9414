"""The whole loop with ML_BACKEND=azure, against the loopback Azure emulator (`make demo-azure`).

The same app and the same SDKs as in Azure: data/diabetes-dev.csv is uploaded to the storage
account (Azurite over HTTPS), Event Grid delivers BlobCreated to the host's blobs extension, the app
submits an Azure ML command job (train.py runs as a process, logging to Azure ML's MLflow API), the
registration's ModelRegistered event starts the gate, a staging deployment (ARM long-running
operations), the smoke test on the scoring URI, the approval request; the approval moves 100% of
live traffic, and the production endpoint answers rows of diabetes-prod.csv.

Each step is printed with its time; every request the app made of "Azure" is written to
.local/demo-azure/requests.jsonl (method, URL, api-version, status), summarised at the end.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from devstack.azure_stack import AzurePorts, AzureStack
from devstack.demo import Steps, run_loop
from devstack.local_settings import load_values
from devstack.processes import REPO_ROOT, port_is_open

DEMO_AGENT = "make-demo-azure"  # the demo's own calls (the practitioners' web app scoring), left out of the trail
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def main() -> int:
    if not localhost_names_resolve():
        print("*.localhost names (devstoreaccount1.blob.localhost, <endpoint>.eastus.inference.localhost) do not "
              "resolve to loopback here: install nss-myhostname (`apt-get install libnss-myhostname`, which adds "
              "`myhostname` to the hosts line of /etc/nsswitch.conf)", file=sys.stderr)
        return 1
    ports = AzurePorts()
    busy = [p for p in (ports.blob, ports.queue, ports.mlflow, ports.https, ports.identity, ports.host)
            if port_is_open(p)]
    if busy:
        print(f"ports {busy} are in use: is an Azure stack already running? (`python -m devstack.azure_stack --down`)",
              file=sys.stderr)
        return 1
    root = REPO_ROOT / ".local" / "demo-azure"
    shutil.rmtree(root, ignore_errors=True)
    stack = AzureStack(root, load_values(), ports)
    os.environ.update(stack.trust_env())  # this process talks to the emulated Azure too (upload, scoring)
    steps = Steps()
    print("retraining service on the Azure emulator (ML_BACKEND=azure): BlobCreated → Azure ML job → "
          "ModelRegistered → gate → staging → approval → production\n")
    try:
        stack.start()
        steps.done("azure emulator stack started", f"ARM {stack.emulator_url}, functions host {stack.host_url}")
        code = run_loop(stack, steps, score=score_production, summary=print_azure_summary)
    except (TimeoutError, RuntimeError) as error:
        print(f"\ndemo failed: {error}\nlogs: {stack.log_dir}", file=sys.stderr)
        code = 1
    finally:
        stack.stop()
        print("\nstack stopped")
    trail = root / "requests.jsonl"
    if stack.requests_trail.exists():
        shutil.copyfile(stack.requests_trail, trail)
        code = code or check_trail(trail)
    return code


def localhost_names_resolve() -> bool:
    import socket

    try:
        return all(info[4][0] in ("127.0.0.1", "::1") for info in socket.getaddrinfo("x.blob.localhost", 443))
    except OSError:
        return False


def score_production(stack: AzureStack, body: dict) -> list:
    """Score as a client of the endpoint does: its scoring URI and key from ARM (azure-ai-ml with the
    managed identity), then a POST with the key."""
    import requests
    from azure.ai.ml import MLClient
    from azure.identity import ManagedIdentityCredential

    env = stack.app_env()
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "ARM_CLOUD_METADATA_URL", "AZUREML_CURRENT_CLOUD"):
        os.environ[name] = env[name]
    config = stack.config
    client = MLClient(ManagedIdentityCredential(), config.subscription_id, config.resource_group, config.workspace,
                      user_agent=DEMO_AGENT, show_progress=False, enable_telemetry=False)
    endpoint = stack.values["ENDPOINT_NAME"]
    scoring_uri = client.online_endpoints.get(endpoint).scoring_uri
    key = client.online_endpoints.get_keys(endpoint).primary_key
    response = requests.post(scoring_uri, json=body, timeout=30,
                             headers={"Authorization": f"Bearer {key}", "User-Agent": DEMO_AGENT})
    response.raise_for_status()
    return response.json()


def print_azure_summary(stack: AzureStack, job: dict, version: dict, steps: Steps) -> None:
    metrics = job.get("metrics", {})
    print("\nsummary")
    print(f"  model           {version['model_name']} version {version['version']}")
    print(f"  trained by      Azure ML job {job['name']} on {len(job['batches'])} data file(s)")
    print("  metrics         " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(metrics.items())))
    print(f"  total time      {time.monotonic() - steps.started:.1f}s")
    print("\nwhere to look")
    print(f"  request trail   {REPO_ROOT / '.local' / 'demo-azure' / 'requests.jsonl'}")
    print(f"  emulator state  {stack.emulator_root}")
    print(f"  logs            {stack.log_dir}")


def app_lines(trail: Path) -> list[dict]:
    lines = [json.loads(line) for line in trail.read_text().splitlines() if line.strip()]
    return [line for line in lines if DEMO_AGENT not in line.get("user_agent", "")]


def check_trail(trail: Path) -> int:
    """Print the trail's summary; 1 when a request went to a host that is not loopback."""
    lines = app_lines(trail)
    hosts = Counter(_host(line["url"]) for line in lines)
    print(f"\nrequest trail: {len(lines)} requests the app and its jobs made ({trail})")
    groups = Counter((line["client"], line["method"], _operation(line["path"]), line["api_version"], line["status"])
                     for line in lines)
    for (client, method, operation, api_version, status), count in sorted(groups.items()):
        print(f"  {count:4d}  {client:<7} {method:<6} {operation:<58} {api_version or '-':<20} {status}")
    print("  hosts: " + ", ".join(f"{host} ({count})" for host, count in sorted(hosts.items())))
    outside = [host for host in hosts if not _loopback(host)]
    if outside:
        print(f"  requests left loopback: {outside}", file=sys.stderr)
        return 1
    print("  every request stayed on loopback")
    return 0


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _loopback(host: str) -> bool:
    return host in LOOPBACK or host.endswith(".localhost")


def _operation(path: str) -> str:
    """What a request asked for, without names: `onlineEndpoints/*/deployments/*`, `mlflow runs/get`."""
    if "/api/2.0/mlflow/" in path:
        return "mlflow " + path.split("/api/2.0/mlflow/", 1)[1]
    parts = path.strip("/").split("/")
    prefix = "history " if parts[0] == "history" else ""
    if "workspaces" in parts:
        parts = parts[parts.index("workspaces") + 2:] or ["workspace"]
    elif len(parts) > 4 and parts[0] == "subscriptions":
        parts = parts[4:]  # operations: providers/Microsoft.MachineLearningServices/locations/<l>/<kind>/<id>
    else:
        return path[:58]  # /metadata/endpoints, /msi/token, /score
    names = [part if i % 2 == 0 else "*" for i, part in enumerate(parts)]
    return (prefix + "/".join(names))[:58]

if __name__ == "__main__":
    sys.exit(main())
