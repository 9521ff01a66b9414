"""Shared by the online endpoint tests (no tests here): a small sklearn model registered in the
session's MLflow server from the training environment, scoring requests over real HTTP with the
scoring URI's Host header, waits for a deployment's state and a process's end."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from devstack.processes import training_python

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
           "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]
ROWS = [[0, 171, 80, 34, 23, 43.50972593, 1.213191354, 21],
        [8, 92, 93, 47, 36, 21.24057571, 0.158364981, 23],
        [7, 115, 47, 52, 35, 41.51152348, 0.079018568, 23]]
TRAIN = """
import sys, mlflow, pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
frame = pd.read_csv(sys.argv[1]).head(300)
X, y = frame[sys.argv[3].split(",")].astype(float), frame["Diabetic"]
model = LogisticRegression(max_iter=2000).fit(X, y)
with mlflow.start_run():
    mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)),
                             registered_model_name=sys.argv[2])
"""


def body(rows=ROWS) -> bytes:
    return json.dumps({"input_data": {"columns": COLUMNS, "index": list(range(len(rows))), "data": rows}}).encode()


def register_model(tracking_uri: str, work: Path) -> str:
    """Train and register a logistic regression as version 1 of a new model, from the training
    environment (where the scoring servers that load it run); its name."""
    name = f"online-model-{uuid.uuid4().hex[:6]}"
    done = subprocess.run([str(training_python()), "-c", TRAIN, str(ROOT / "data" / "diabetes-dev.csv"), name,
                           ",".join(COLUMNS)], cwd=work, capture_output=True, text=True, timeout=300,
                          env={"PATH": os.environ.get("PATH", os.defpath), "HOME": str(work),
                               "MLFLOW_TRACKING_URI": tracking_uri})
    assert done.returncode == 0, done.stderr[-3000:]
    return name


@pytest.fixture(scope="module")
def model_name(mlflow_server, tmp_path_factory) -> str:
    """A model registered in the session's MLflow server (version 1)."""
    return register_model(mlflow_server, tmp_path_factory.mktemp("online-model"))


def post_score(port: int, endpoint: str, key: str | None, deployment: str | None = None,
               payload: bytes | None = None, location: str = "eastus") -> tuple[int, dict, bytes]:
    """POST /score to the emulator on 127.0.0.1:port as to <endpoint>.<location>.inference.localhost."""
    headers = {"Host": f"{endpoint}.{location}.inference.localhost:{port}", "Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if deployment:
        headers["azureml-model-deployment"] = deployment
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/score", body=body() if payload is None else payload, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_for_state(host, endpoint: str, deployment: str, limit: float = 240) -> tuple[str, str]:
    deadline = time.monotonic() + limit
    state = host.deployment_state(endpoint, deployment)
    while state[0] == "Creating" and time.monotonic() < deadline:
        time.sleep(0.5)
        state = host.deployment_state(endpoint, deployment)
    return state


def ended(pid: int, limit: float = 30) -> bool:
    """Whether the process is gone (waited for: an old server is stopped after the new one took over)."""
    deadline = time.monotonic() + limit
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return not Path(f"/proc/{pid}").exists()
