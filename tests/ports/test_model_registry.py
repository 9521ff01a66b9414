"""The registry side of MLPlatform, one suite on both: the fake ML platform and the local adapter
on a real MLflow server (the registry every model event is checked against)."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from shared.domain.errors import NotFound

SIDES = ["fake", pytest.param("mlflow", marks=pytest.mark.integration)]


class Registry:
    """An MLPlatform and a way to register a version the way training does (tags on the version)."""

    def __init__(self, platform, register):
        self.platform, self.register = platform, register


@pytest.fixture(params=SIDES)
def registry(request) -> Registry:
    if request.param == "fake":
        from tests.fakes import FakeMLPlatform

        fake = FakeMLPlatform()
        return Registry(fake, lambda name, tags: fake.register_model_version(
            name, len(fake.list_model_versions(name)) + 1, **tags).version)
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

    platform = LocalMLPlatform(jobs_dir=str(request.getfixturevalue("tmp_path")), storage_connection="",
                               tracking_uri=tracking_uri, events_url="http://127.0.0.1:9/none", events_key="k",
                               training_python=Path(sys.executable))  # submits no job
    return Registry(platform, register)


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
