"""Who asked for a training job is recorded with it: the uploader a blob's metadata names, a manual request;
and whoever registered a version (the registry's creator) is one of its requesters."""
from __future__ import annotations

from dataclasses import replace

import pytest

from shared.domain.errors import Forbidden
from shared.domain.models import ModelRegistered
from tests.builders import MODEL


def test_the_uploader_in_the_blobs_metadata_becomes_a_requester_of_the_job(world, dev_csv):
    world.files.upload("data", "dev.csv", dev_csv, metadata={"Uploaded_By": " carol@contoso.com "})
    batch = world.ingestion.handle_new_file("data", "dev.csv")
    assert batch.uploaded_by == "carol@contoso.com"
    world.training.request_training(None, "new code", requested_by=["bob", "carol@contoso.com"])
    assert world.repos.training_requests.open()["requested_by"] == ["carol@contoso.com", "bob"]
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()
    assert world.repos.jobs.get(job.name).requested_by == ["carol@contoso.com", "bob"]


def test_a_file_without_uploader_metadata_names_nobody(world, dev_csv):
    world.files.upload("data", "dev.csv", dev_csv)
    assert world.ingestion.handle_new_file("data", "dev.csv").uploaded_by == ""
    assert world.repos.training_requests.open()["requested_by"] == []


def _hand_registered(world, version: str, created_by: str):
    """A version registered by hand: no job_name tag, so no job names its requesters; the registry names its creator."""
    info = world.platform.register_model_version(MODEL, version)
    assert "job_name" not in info.tags
    world.platform.model_versions[(MODEL, version)] = replace(info, created_by=created_by)
    return world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))


def test_the_creator_of_a_hand_registered_version_is_its_requester_and_may_not_approve_it(world):
    candidate = _hand_registered(world, "1", "dana@contoso.com")
    assert world.approvals.get(candidate.approval_id).requested_by == ["dana@contoso.com"]
    assert world.repos.candidates.get("1").requested_by == ["dana@contoso.com"]
    with pytest.raises(Forbidden, match="requester of a candidate may not approve it"):
        world.approvals.decide(candidate.approval_id, "approve", "Dana@Contoso.com")
    assert world.approvals.get(candidate.approval_id).status == "pending"
    [refused] = [e for e in world.audit.read(100) if e["action"] == "decision_refused"]
    assert refused["actor"] == "Dana@Contoso.com" and refused["requested_by"] == ["dana@contoso.com"]
    assert world.approvals.decide(candidate.approval_id, "approve", "ada@contoso.com").decided_by == "ada@contoso.com"


def test_the_creator_joins_the_jobs_requesters_once(world):
    world.training.request_training(None, "new code", requested_by=["bob"])
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()
    for version, creator in (("1", "bob"), ("2", "svc-app-id")):
        info = world.platform.register_model_version(MODEL, version, job_name=job.name)
        world.platform.model_versions[(MODEL, version)] = replace(info, created_by=creator)
    first = world.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    assert world.approvals.get(first.approval_id).requested_by == ["bob"]
    second = world.candidates.handle_registered(ModelRegistered(MODEL, "2", "mlflow-webhook", "d-2"))
    assert world.approvals.get(second.approval_id).requested_by == ["bob", "svc-app-id"]


def test_the_local_registry_names_the_creator_by_the_versions_user_id_when_it_has_one():
    from shared.adapters.local_ml.platform import _version_info

    rest = {"name": MODEL, "version": "3", "run_id": "r1", "source": "models:/m/3", "tags": []}
    assert _version_info({**rest, "user_id": " dana "}).created_by == "dana"
    assert _version_info(rest).created_by == _version_info({**rest, "user_id": None}).created_by == ""
