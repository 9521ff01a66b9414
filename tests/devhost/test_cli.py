"""``python -m devhost`` as a real process: settings file, foreground run, log lines, graceful stop."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from devstack.processes import free_port

from .conftest import SAMPLE_APP, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_app_with_settings_and_stops_on_sigterm(tmp_path):
    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": {
        "LOCAL_HOST_FUNCTION_KEY": "from-settings",
        "LOCAL_HOST_MASTER_KEY": "master-from-settings",
        "SAMPLE_TIMER_SCHEDULE": "0 0 0 1 1 *",
        "SAMPLE_CONTAINER": "unused",
        "SAMPLE_RECORD_FILE": str(tmp_path / "records.jsonl"),
    }}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AzureWebJobsStorage"}
    env["LOCAL_HOST_FUNCTION_KEY"] = "from-env"  # existing variables win over the settings file
    log_path = tmp_path / "host.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "--app-dir", str(SAMPLE_APP), "--port", str(port),
             "--settings", str(settings)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        def ready():
            try:
                return requests.get(f"{url}/admin/host/status", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        assert wait_for(ready, timeout=20), log_path.read_text()
        assert requests.get(f"{url}/api/hello/Ann", timeout=5).status_code == 200
        assert requests.get(f"{url}/api/items/1/x", params={"code": "from-settings"}, timeout=5).status_code == 401
        assert requests.get(f"{url}/api/items/1/x", params={"code": "from-env"}, timeout=5).status_code == 201
        assert requests.get(f"{url}/api/items/1/x", params={"code": "master-from-settings"}, timeout=5).status_code == 201
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=15)
    output = log_path.read_text()
    assert returncode == 0, output
    assert "Executing 'Functions.hello' (Reason=" in output
    assert "Executed 'Functions.hello' (Succeeded, Id=" in output
    assert "saying hello" in output  # the function's own logging
    assert "Blob trigger 'Functions.on_blob' disabled" in output  # no AzureWebJobsStorage here
    assert "Host stopped" in output
    for secret in ("from-env", "from-settings", "code="):
        assert secret not in output
