"""infra/scripts/retrain_current.py: the app's current training set over real HTTP (a loopback
server answering what the route answers), then the job the real azure-ai-ml SDK sends to a fake
ARM, built by the app's own TrainingJobBuilder."""
from __future__ import annotations

import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.adapters.azure_ml.client import build_ml_client
from tests.builders import FakeWorld
from tests.contract.fake_arm import RG, SUB, WS, WS_PATH, FakeCredential

ROOT = Path(__file__).resolve().parents[2]
CSV = (ROOT / "data" / "diabetes-dev.csv").read_bytes()
KEY = "function-key-for-the-retrain-test-0123"
SCRIPT = ROOT / "infra" / "scripts" / "retrain_current.py"


def load_script():
    spec = importlib.util.spec_from_file_location("retrain_current", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


retrain = load_script()


def current_training_set_body() -> dict:
    """What GET /api/training-sets/current answers after two accepted uploads (one re-uploaded)."""
    world = FakeWorld()
    for name, body in (("landing/a.csv", CSV), ("landing/2026/b c.csv", CSV.replace(b"\n", b"\r\n")),
                       ("landing/a.csv", CSV + CSV.split(b"\n", 1)[1])):
        world.files.upload("data", name, body)
        world.ingestion.handle_new_file("data", name)
        world.clock.advance(minutes=1)
    return world.training.current_training_set().to_dict()


class App:
    """A loopback HTTP server standing in for the Functions app's route (function key checked)."""

    def __init__(self, body: dict | None, status: int = 200):
        self.body, self.status, self.seen = body, status, []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                app.seen.append((self.path, self.headers.get("x-functions-key")))
                if self.headers.get("x-functions-key") != KEY:
                    self._answer(401, {"error": "unauthorized"})
                elif self.path != "/api/training-sets/current":
                    self._answer(404, {"error": "no such route"})
                else:
                    self._answer(app.status, app.body)

            def _answer(self, status, body):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app():
    server = App(current_training_set_body())
    yield server
    server.close()


@pytest.fixture
def run(arm, config, monkeypatch, tmp_path):
    monkeypatch.setenv("APP_FUNCTION_KEY", KEY)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    client = build_ml_client(config, credential=FakeCredential(), transport=arm)

    def run_script(app_url: str, *extra: str) -> int:
        return retrain.main(["--app-url", app_url, "--subscription", SUB, "--resource-group", RG,
                             "--workspace", WS, "--datastore", config.data_datastore,
                             "--job-name", "retrain-code-0123456789ab-1", "--tag", "git_sha=0123456789abcdef",
                             *extra], ml_client=client)

    run_script.output = tmp_path / "github_output"
    return run_script


def test_the_job_reads_exactly_the_immutable_copies_of_the_current_training_set(app, run, arm, capsys):
    assert run(app.url) == 0

    body = app.body
    assert app.seen == [("/api/training-sets/current", KEY)]
    job = arm.calls("PUT", "/jobs/")[0].body["properties"]
    inputs = job["inputs"]
    copies = [inputs[f"batch_{i:03d}"]["uri"] for i in range(body["count"])]
    assert copies == [f"azureml://datastores/retrain_data/paths/{b['copy_name']}" for b in body["batches"]]
    assert all(uri.rsplit("/", 1)[1] == b["sha256"] for uri, b in zip(copies, body["batches"]))
    assert f"batch_{body['count']:03d}" not in inputs  # the superseded first version of a.csv is not read
    assert all(inputs[f"batch_{i:03d}"]["mode"] == "ReadOnlyMount" for i in range(body["count"]))
    command = job["command"]
    assert f'"id":"{body["training_set_id"]}"' in command and "sha256sum --quiet -c training_data.sha256" in command
    assert all(b["sha256"] in command for b in body["batches"])
    assert "--algorithm ${{inputs.algorithm}}" in command and inputs["algorithm"]["value"] == "logistic_regression"
    assert job["tags"] == {"model_name": "diabetes-classifier", "training_set_id": body["training_set_id"],
                           "trigger": "training-code-change", "git_sha": "0123456789abcdef"}
    assert job["experimentName"] == "diabetes-training" and job["codeId"].startswith(f"{WS_PATH}/codes/")
    asset = arm.calls("PUT", "/data/")[0]
    assert asset.path.endswith(f"/data/diabetes-classifier-training-set/versions/{body['training_set_id'][:16]}")
    assert "retrain-code-0123456789ab-1 submitted" in capsys.readouterr().out
    assert run.output.read_text().splitlines()[0] == "job=retrain-code-0123456789ab-1"


def test_a_re_run_finds_its_job_and_submits_nothing(app, run, arm, capsys):
    assert run(app.url) == 0
    arm.reset_log()
    assert run(app.url) == 0
    assert [r.method for r in arm.requests] == ["GET"] and "exists already" in capsys.readouterr().out


@pytest.mark.parametrize("status, body, words", [
    (404, {"error": "no accepted data yet: the training set is empty (upload a data file first)"}, "404: no accepted data"),
    (500, {"error": "internal error"}, "500: internal error"),
])
def test_an_error_of_the_app_stops_before_azure(arm, run, capsys, status, body, words):
    server = App(body, status)
    try:
        assert run(server.url) == 1
    finally:
        server.close()
    assert words in capsys.readouterr().err and arm.requests == []


def test_a_wrong_key_is_named_without_showing_any_key(app, run, arm, capsys, monkeypatch):
    monkeypatch.setenv("APP_FUNCTION_KEY", "not-the-key")
    assert run(app.url) == 1
    err = capsys.readouterr().err
    assert "401" in err and "not-the-key" not in err and KEY not in err and arm.requests == []
    monkeypatch.setenv("APP_FUNCTION_KEY", "")
    assert run(app.url) == 1 and "APP_FUNCTION_KEY is empty" in capsys.readouterr().err


@pytest.mark.parametrize("tamper, words", [
    (lambda b: b.update(training_set_id="0" * 64), "is not the id of its batches"),
    (lambda b: b["batches"][0].update(sha256="../../etc"), "sha256 must be 64 hex digits"),
    (lambda b: b["batches"].pop() and b["batches"].pop(), "has no batches"),
    (lambda b: b["batches"][0].update(copy_etag=""), "immutable copy has no ETag"),
    (lambda b: b.update(parameters=["algorithm"]), "parameters are not an object"),
])
def test_an_answer_that_is_not_a_training_set_is_refused_before_azure(app, run, arm, capsys, tamper, words):
    tamper(app.body)
    assert run(app.url) == 1
    assert words in capsys.readouterr().err and arm.requests == []


def test_an_unknown_training_parameter_is_refused_by_the_builder(app, run, arm, capsys):
    app.body["parameters"] = {"algorithm": "logistic_regression", "rm -rf": "x"}
    assert run(app.url) == 1
    assert "unknown parameter 'rm -rf'" in capsys.readouterr().err and arm.calls("PUT", "/jobs/") == []


def test_a_bad_job_name_is_refused():
    with pytest.raises(retrain.RetrainError, match="job name"):
        retrain.training_request(current_training_set_body(), "../x", "diabetes-training")
