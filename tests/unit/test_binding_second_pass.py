"""Binding, second pass: the approval is asked for the artifacts the gate evaluated (a swap after the gate
fails the candidate), an evidence document no digest can be taken over voids, an expired approval is
expired before any binding check, and a candidate that held staging gives it up when it ends for good."""
from __future__ import annotations

import pytest

from shared.domain.candidates import (
    AWAITING_APPROVAL, EXPIRED, FAILED, GATE_FAILED, PROMOTION_FAILED, SMOKE_FAILED, VOID,
    ApprovalExpired,
)
from shared.domain.errors import Conflict, InvalidInput, PlatformError
from shared.domain.naming import deployment_name_for
from shared.domain.models import ModelRegistered
from shared.domain.steps import REQUEST_APPROVAL, StepState
from shared.services.promotion.staging import release_staging
from tests.builders import ENDPOINT, MODEL
from tests.unit.test_approval_binding import CHANGED_FILES, Binding
from tests.unit.test_void_recovery import void_by_artifacts


def deployments(world) -> set[str]:
    return {d.name for d in world.endpoints.get_endpoint(ENDPOINT).deployments}


def staging(world) -> tuple:
    production = world.repos.production.get()
    return production.staging_version, production.staging_deployment, production.staging_approval


def until_request(world, version: str) -> None:
    """Deliver the queued steps one by one until the approval request is due (inline_steps=False)."""
    for _ in range(20):
        candidate = world.repos.candidates.find(version)
        if candidate and StepState.from_dict(candidate.steps).step == REQUEST_APPROVAL:
            return
        world.queue.drain(limit=1)
    raise AssertionError(f"v{version} never reached the approval request")


# ------------------------------------------------------------- 1. the gate's artifact digest


def test_the_gate_records_the_digest_of_the_artifacts_it_evaluated_and_the_approval_is_bound_to_it():
    world = Binding()
    candidate = world.register("1")
    digest = world.platform.model_artifact_digest(MODEL, "1")
    assert candidate.gate["artifact_digest"] == digest
    assert world.approvals.get(candidate.approval_id).artifact_digest == digest


def test_artifacts_swapped_between_the_gate_and_the_request_fail_the_candidate_instead_of_asking():
    world = Binding(inline_steps=False)
    world.platform.scores["1"] = {"auc": 0.9, "accuracy": 0.8}
    world.services.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    until_request(world, "1")
    gated = world.repos.candidates.get("1").gate["artifact_digest"]
    world.platform.set_artifacts(MODEL, "1", CHANGED_FILES)  # after the gate and the smoke test loaded the model
    now = world.platform.model_artifact_digest(MODEL, "1")
    world.queue.drain()

    failed = world.repos.candidates.get("1")
    assert failed.status == FAILED and failed.failed_step == "approval request"
    assert "artifact files of model version v1 changed after the quality gate evaluated them" in failed.error
    assert gated in failed.error and now in failed.error and "redeploy" in failed.error
    assert world.approvals.list().items == [], "no approval asked for artifacts nobody gated"
    assert world.notifier.sent[-1].kind == "candidate.failed"
    assert deployments(world) == set() and staging(world) == (None, None, None)

    world.candidates.redeploy("1")  # retryable: the gate evaluates the new files, the approval is bound to them
    world.queue.drain()
    again = world.repos.candidates.get("1")
    assert again.status == AWAITING_APPROVAL and again.gate["artifact_digest"] == now
    assert world.approvals.get(again.approval_id).artifact_digest == now


def test_a_swap_while_the_gate_scores_is_caught_at_the_request():
    world = Binding()
    score = world.platform.predict_proba

    def swapped_midway(*args, **kwargs):
        world.platform.set_artifacts(MODEL, "1", CHANGED_FILES)
        return score(*args, **kwargs)

    world.platform.predict_proba = swapped_midway
    candidate = world.register("1")
    assert candidate.status == FAILED and candidate.failed_step == "approval request"
    assert world.approvals.list().items == []


# ------------------------------------------------------------- 2. an undigestible evidence document


def test_an_evidence_document_no_digest_can_be_taken_over_voids_with_409_not_a_500():
    world = Binding()
    candidate = world.champion_and_candidate()
    world.tamper_evidence(candidate.approval_id, verdict={"passed": True, "line": float("nan")})

    with pytest.raises(Conflict, match="evidence document changed .*unreadable: ValueError"):
        world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")

    assert world.approvals.get(candidate.approval_id).status == VOID
    [voided] = world.entries("voided")
    assert "evidence document changed" in voided["changed"][0]
    assert world.repos.production.get().champion_version == "1"


# ------------------------------------------------------------- 3. expiry before binding


def test_an_expired_approval_whose_artifacts_changed_is_expired_not_voided():
    world = Binding()
    candidate = world.champion_and_candidate()
    world.platform.set_artifacts(MODEL, "2", CHANGED_FILES)
    world.clock.advance(hours=24 * 30)

    with pytest.raises(ApprovalExpired, match="has expired"):
        world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")

    assert world.approvals.get(candidate.approval_id).status == EXPIRED
    assert world.repos.candidates.get("2").status == EXPIRED
    assert world.entries("voided") == [] and len(world.entries("expired")) == 1
    assert candidate.deployment not in deployments(world) and staging(world) == (None, None, None)


# ------------------------------------------------------------- 5. no staging leak


def voided_and_redeployed(world, make_it_fail) -> object:
    candidate = world.champion_and_candidate()
    void_by_artifacts(world, candidate)
    assert staging(world)[0] == "2" and candidate.deployment in deployments(world)
    make_it_fail(world, candidate)
    world.candidates.redeploy("2")
    world.queue.drain()
    return candidate


def failing_gate(world, candidate):
    world.platform.scores["2"] = {"auc": 0.5, "accuracy": 0.5}


def failing_smoke(world, candidate):
    world.endpoints.answers[candidate.deployment] = [7, 7]


@pytest.mark.parametrize("make_it_fail, status", [(failing_gate, GATE_FAILED), (failing_smoke, SMOKE_FAILED)])
def test_a_redeploy_that_fails_gives_up_the_kept_staging_deployment(make_it_fail, status):
    world = Binding()
    candidate = voided_and_redeployed(world, make_it_fail)

    assert world.repos.candidates.get("2").status == status
    assert staging(world) == (None, None, None)
    assert deployments(world) == {world.repos.production.get().champion_deployment}
    report = world.sweeper.sweep()
    assert not any(candidate.deployment in line for line in report.repaired + report.reported)


def test_a_redeploy_after_a_failed_promotion_that_fails_its_gate_gives_up_staging():
    world = Binding(inline_steps=False)
    candidate = world.champion_and_candidate()
    world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    world.endpoints.endpoints[ENDPOINT]["deployments"][candidate.deployment] = (MODEL, "1")
    world.queue.drain()
    assert world.approvals.get(candidate.approval_id).status == PROMOTION_FAILED
    assert staging(world)[0] == "2" and candidate.deployment in deployments(world)  # kept: nothing was deleted

    failing_gate(world, candidate)
    world.candidates.redeploy("2")
    world.queue.drain()

    assert world.repos.candidates.get("2").status == GATE_FAILED
    assert staging(world) == (None, None, None) and candidate.deployment not in deployments(world)


def test_a_redeploy_whose_staging_deployment_step_fails_gives_up_staging_too():
    world = Binding()
    candidate = voided_and_redeployed(world, lambda w, c: None)  # the redeploy asks again...
    again = world.repos.candidates.get("2")
    assert again.status == AWAITING_APPROVAL and staging(world)[2] == again.approval_id
    world.tamper_evidence(again.approval_id, built_at="2020-01-01T00:00:00+00:00")  # ...its approval is void too,
    with pytest.raises(Conflict, match="void"):
        world.approvals.decide(again.approval_id, "approve", "ada@example.com")
    assert staging(world)[2] == again.approval_id  # kept once more; this time a later step fails for good
    world.endpoints.fail["begin_deployment"] = InvalidInput("the deployment's instance type is not allowed")
    world.candidates.redeploy("2")
    world.queue.drain()

    assert world.repos.candidates.get("2").status == FAILED
    assert staging(world) == (None, None, None) and candidate.deployment not in deployments(world)


def test_when_removing_fails_the_record_lets_go_and_the_sweeper_removes_the_orphan():
    world = Binding()
    world.endpoints.fail["delete_deployment"] = PlatformError("the platform is busy")
    candidate = voided_and_redeployed(world, failing_gate)
    assert staging(world) == (None, None, None) and candidate.deployment in deployments(world)

    del world.endpoints.fail["delete_deployment"]
    report = world.sweeper.sweep()

    assert candidate.deployment not in deployments(world)
    assert any(candidate.deployment in line for line in report.repaired)


def test_releasing_staging_is_idempotent_and_leaves_another_versions_staging_alone():
    world = Binding()
    candidate = world.champion_and_candidate()
    held = staging(world)
    ctx = world.approvals.ctx

    release_staging(ctx, "3")  # not the version that holds it
    assert staging(world) == held and candidate.deployment in deployments(world)
    for _ in range(2):
        release_staging(ctx, "2", candidate.deployment)
        assert staging(world) == (None, None, None) and candidate.deployment not in deployments(world)


def test_a_newer_candidate_replaces_staging_kept_for_a_void_approval():
    world = Binding()
    candidate = world.champion_and_candidate()
    void_by_artifacts(world, candidate)
    world.endpoints.answers[deployment_name_for(MODEL, "3")] = [7, 7]  # and then fails its own smoke test

    assert world.register("3").status == SMOKE_FAILED
    assert staging(world) == (None, None, None)
    assert deployments(world) == {world.repos.production.get().champion_deployment}
    assert world.approvals.get(candidate.approval_id).status == VOID
    assert world.repos.candidates.get("2").status == FAILED  # a redeploy of it would now be stale
