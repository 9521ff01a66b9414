"""The Azure ML adapter's registry listing against the REST shape of Model Versions - List:
`{"value": [...], "nextLink": ...}`, every page followed; who registered a version (systemData)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from shared.domain.errors import PlatformError
from shared.services.promotion.requesters import requesters_of
from tests.builders import FakeWorld
from tests.contract.fake_arm import WS_PATH, arm_error


def test_every_page_of_the_model_versions_is_listed_with_tags(platform, arm):
    arm.model_page_size = 2
    for version in range(1, 6):
        arm.add_model_version("diabetes-classifier", str(version), job=f"train-{version}")

    listed = list(platform.list_model_versions("diabetes-classifier"))

    assert sorted(int(info.version) for info in listed) == [1, 2, 3, 4, 5]
    assert all(info.name == "diabetes-classifier" for info in listed)
    assert {info.version: info.tags["job_name"] for info in listed}["4"] == "train-4"
    assert {info.version: info.run_id for info in listed}["3"] == "train-3"
    pages = arm.calls("GET", "/models/diabetes-classifier/versions")
    assert len(pages) == 3 and all(p.path == f"{WS_PATH}/models/diabetes-classifier/versions" for p in pages)
    assert [p.query.get("$skip") for p in pages] == [None, "2", "4"]


def test_a_model_with_no_versions_lists_nothing(platform, arm):
    assert list(platform.list_model_versions("never-registered")) == []


def test_a_version_that_is_not_registered_is_not_found(platform, arm):
    from shared.domain.errors import NotFound

    arm.add_model_version("diabetes-classifier", "1", job="train-1")
    with pytest.raises(NotFound):
        platform.get_model_version("diabetes-classifier", "50")


def test_a_listing_failure_names_the_step(platform, arm):
    arm.fail("GET", r"/models/diabetes-classifier/versions$", *[(500, arm_error("InternalError", "boom"))] * 4)
    with pytest.raises(PlatformError, match="list the versions of model diabetes-classifier in Azure ML"):
        list(platform.list_model_versions("diabetes-classifier"))


def test_who_registered_a_version_is_read_from_system_data_and_becomes_its_requester(platform, arm):
    """A version registered by hand (no jobName, no job_name tag): ARM's systemData.createdBy, which
    azure-ai-ml reads into Model.creation_context.created_by, is the only requester known."""
    body = arm.add_model_version("diabetes-classifier", "7", job="unused")
    body["properties"].pop("jobName")
    body["properties"]["tags"].pop("job_name")
    body["systemData"].update(createdBy="dana@contoso.com", createdByType="User")

    info = platform.get_model_version("diabetes-classifier", "7")
    [listed] = platform.list_model_versions("diabetes-classifier")

    assert info.created_by == listed.created_by == "dana@contoso.com" and info.run_id is None
    ctx = replace(FakeWorld().services.approvals.ctx, platform=platform)
    assert requesters_of(ctx, info) == ["dana@contoso.com"]


def test_the_creator_joins_the_requesters_of_a_job_the_workspace_does_not_know(platform, arm):
    body = arm.add_model_version("diabetes-classifier", "9", job="train-elsewhere")
    body["systemData"].update(createdBy="3f2a-app-id", createdByType="Application")
    ctx = replace(FakeWorld().services.approvals.ctx, platform=platform)

    assert requesters_of(ctx, platform.get_model_version("diabetes-classifier", "9")) == ["3f2a-app-id"]
    assert arm.calls("GET", "/jobs/train-elsewhere")  # the job was asked for, and is gone


def test_a_version_without_system_data_has_no_creator(platform, arm):
    body = arm.add_model_version("diabetes-classifier", "8", job="train-8")
    del body["systemData"]
    assert platform.get_model_version("diabetes-classifier", "8").created_by == ""
