"""The registry side of MLPlatform, one suite on both: the fake ML platform and the local adapter
on a real MLflow server (the registry every model event is checked against)."""
from __future__ import annotations

import hashlib
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from shared.domain.errors import NotFound
from shared.ports import page_url

SIDES = ["fake", pytest.param("mlflow", marks=pytest.mark.integration)]


class Registry:
    """An MLPlatform and ways to register a version the way training does (tags on the version;
    artifact files under the run's model/ folder)."""

    def __init__(self, platform, register, register_files=None):
        self.platform, self.register, self.register_files = platform, register, register_files


@pytest.fixture(params=SIDES)
def registry(request) -> Registry:
    if request.param == "fake":
        from tests.fakes import FakeMLPlatform

        fake = FakeMLPlatform()

        def register_fake(name: str, tags: dict) -> str:
            return fake.register_model_version(name, len(fake.list_model_versions(name)) + 1, **tags).version

        def register_fake_files(name: str, files: dict, artifact_uri_source: bool = False) -> str:
            version = register_fake(name, {})
            fake.set_artifacts(name, version, files)
            return version
        return Registry(fake, register_fake, register_fake_files)
    from mlflow import MlflowClient

    from shared.adapters.local_ml.platform import LocalMLPlatform

    tracking_uri = request.getfixturevalue("mlflow_server")
    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment(f"registry-{uuid.uuid4().hex[:8]}")

    def register(name: str, tags: dict) -> str:
        try:
            client.create_registered_model(name)
        except Exception:  # noqa: BLE001 - registered by an earlier call of this test
            pass
        run = client.create_run(experiment)
        return client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id, tags=tags).version

    def register_files(name: str, files: dict, artifact_uri_source: bool = False) -> str:
        try:
            client.create_registered_model(name)
        except Exception:  # noqa: BLE001 - registered by an earlier call of this test
            pass
        run = client.create_run(experiment)
        with tempfile.TemporaryDirectory() as folder:
            for path, data in files.items():
                (Path(folder) / path).parent.mkdir(parents=True, exist_ok=True)
                (Path(folder) / path).write_bytes(data)
            client.log_artifacts(run.info.run_id, folder, "model")
        # mlflow.register_model (training) records the run's artifact URI + /model; runs:/ is the other spelling
        source = f"{run.info.artifact_uri}/model" if artifact_uri_source else f"runs:/{run.info.run_id}/model"
        return client.create_model_version(name, source, run.info.run_id).version

    platform = LocalMLPlatform(jobs_dir=str(request.getfixturevalue("tmp_path")), storage_connection="",
                               tracking_uri=tracking_uri, events_url="http://127.0.0.1:9/none", events_key="k",
                               training_python=Path(sys.executable))  # submits no job
    return Registry(platform, register, register_files)


def model_name() -> str:
    return f"model-{uuid.uuid4().hex[:8]}"


def test_every_registered_version_is_listed_with_its_tags(registry):
    name, other = model_name(), model_name()
    for job in ("train-a", "train-b", "train-c"):
        registry.register(name, {"job_name": job})
    registry.register(other, {"job_name": "train-x"})

    listed = sorted(registry.platform.list_model_versions(name), key=lambda info: int(info.version))

    assert [(info.name, info.version, info.tags.get("job_name")) for info in listed] == [
        (name, "1", "train-a"), (name, "2", "train-b"), (name, "3", "train-c")]


def test_a_model_never_registered_lists_nothing(registry):
    assert list(registry.platform.list_model_versions(model_name())) == []


def test_a_version_read_back_carries_its_model_name_and_tags(registry):
    name = model_name()
    version = registry.register(name, {"job_name": "train-a"})
    info = registry.platform.get_model_version(name, version)
    assert (info.name, info.version, info.tags["job_name"]) == (name, str(version), "train-a")


def test_a_version_that_is_not_registered_is_not_found(registry):
    name = model_name()
    registry.register(name, {"job_name": "train-a"})
    with pytest.raises(NotFound):
        registry.platform.get_model_version(name, "50")
    with pytest.raises(NotFound):
        registry.platform.get_model_version(model_name(), "1")


MODEL_FILES = {"MLmodel": b"flavors:\n  sklearn: {}\n", "model.skops": b"\x00weights" * 1000,
               "sub/requirements.txt": b"scikit-learn==1.5\n"}


def expected_digest(files: dict) -> str:
    lines = sorted(f"{path}\0{hashlib.sha256(data).hexdigest()}\n" for path, data in files.items())
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


def test_the_artifact_digest_covers_every_file_of_the_version_by_its_path_and_content(registry):
    name = model_name()
    first = registry.register_files(name, MODEL_FILES)
    same = registry.register_files(name, MODEL_FILES, artifact_uri_source=True)
    changed = registry.register_files(name, {**MODEL_FILES, "model.skops": b"\x00weights" * 999 + b"\x01"})
    moved = registry.register_files(name, {"MLmodel": MODEL_FILES["MLmodel"], "model.bin": MODEL_FILES["model.skops"],
                                           "sub/requirements.txt": MODEL_FILES["sub/requirements.txt"]})

    digests = {v: registry.platform.model_artifact_digest(name, v) for v in (first, same, changed, moved)}

    assert digests[first] == digests[same] == expected_digest(MODEL_FILES)
    assert len({digests[first], digests[changed], digests[moved]}) == 3
    assert registry.platform.model_artifact_digest(name, first) == digests[first]  # stable


def test_the_artifact_digest_of_a_version_that_is_not_registered_is_not_found(registry):
    name = model_name()
    registry.register_files(name, MODEL_FILES)
    with pytest.raises(NotFound):
        registry.platform.model_artifact_digest(name, "50")
    with pytest.raises(NotFound):
        registry.platform.model_artifact_digest(model_name(), "1")


@pytest.mark.integration
def test_the_mlflow_listing_follows_every_page(mlflow_server):
    from mlflow import MlflowClient

    from shared.adapters.local_ml.mlflow_rest import MlflowRest

    client, name = MlflowClient(mlflow_server), model_name()
    client.create_registered_model(name)
    run = client.create_run(client.create_experiment(name))
    for _ in range(5):
        client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)

    found = list(MlflowRest(mlflow_server).search_model_versions(name, page_size=2))

    assert sorted(int(v["version"]) for v in found) == [1, 2, 3, 4, 5]


def test_the_run_url_is_a_plain_http_page_of_that_run(registry):
    name = model_name()
    version = registry.register(name, {"job_name": "train-a"})
    run_id = registry.platform.get_model_version(name, version).run_id

    url = registry.platform.run_url(run_id)

    assert url.startswith(("http://", "https://")) and page_url(url) == url
    assert url.endswith(f"/runs/{run_id}") and "#/experiments/" in url
    assert "token" not in url.lower() and "key" not in url.lower()


def test_the_run_url_of_an_unknown_run_is_not_found(registry):
    registry.register(model_name(), {"job_name": "train-a"})
    with pytest.raises(NotFound):
        registry.platform.run_url(uuid.uuid4().hex)


@pytest.mark.integration
def test_the_mlflow_run_url_opens_the_runs_page_of_its_experiment_in_the_servers_ui(mlflow_server):
    from mlflow import MlflowClient

    from shared.adapters.local_ml.platform import LocalMLPlatform

    client = MlflowClient(mlflow_server)
    experiment = client.create_experiment(f"links-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment)
    platform = LocalMLPlatform(jobs_dir="/tmp", storage_connection="", tracking_uri=mlflow_server + "/",
                               events_url="http://127.0.0.1:9/none", events_key="k", training_python=Path(sys.executable))

    assert platform.run_url(run.info.run_id) == (
        f"{mlflow_server.rstrip('/')}/#/experiments/{experiment}/runs/{run.info.run_id}")
