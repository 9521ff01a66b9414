"""A void approval does not strand its candidate: the void fails the candidate at the approval request
(only if it still awaits that approval), its staging deployment stays for the redeploy to replace, and
POST .../redeploy re-runs gate → staging → a new approval bound to fresh evidence."""
from __future__ import annotations

import pytest

from shared.domain.candidates import (
    AWAITING_APPROVAL, FAILED, PENDING, PROMOTED, SUPERSEDED, VOID, Candidate,
)
from shared.domain.errors import Conflict
from tests.builders import ENDPOINT, MODEL, START
from tests.unit.test_approval_binding import CHANGED_FILES, Binding


@pytest.fixture
def world():
    return Binding()


def deployments(world) -> set[str]:
    return {d.name for d in world.endpoints.get_endpoint(ENDPOINT).deployments}


def void_by_artifacts(world, candidate) -> str:
    world.platform.set_artifacts(MODEL, candidate.version, CHANGED_FILES)
    with pytest.raises(Conflict) as caught:
        world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    return caught.value.message


def test_a_void_fails_the_candidate_at_the_approval_request_naming_what_changed(world):
    candidate = world.champion_and_candidate()
    staged = world.repos.production.get()
    sent = len(world.notifier.sent)

    void_by_artifacts(world, candidate)

    failed = world.repos.candidates.get("2")
    assert failed.status == FAILED and failed.failed_step == "approval request"
    assert f"approval {candidate.approval_id} is void" in failed.error
    assert "the artifact files of model version v2 changed" in failed.error
    assert failed.error.endswith("redeploy re-runs the gate and asks again")
    assert failed.history[-1]["status"] == FAILED and failed.approval_id == candidate.approval_id
    [notice] = world.notifier.sent[sent:]
    assert notice.kind == "candidate.failed" and "approval request" in notice.title
    assert notice.facts["retry"] == f"POST /api/candidates/{MODEL}/2/redeploy"
    # the staging deployment stays, and the production record still holds it
    production = world.repos.production.get()
    assert candidate.deployment in deployments(world)
    assert (production.staging_version, production.staging_deployment, production.staging_approval) == (
        staged.staging_version, staged.staging_deployment, staged.staging_approval) == (
        "2", candidate.deployment, candidate.approval_id)


def test_the_sweeper_keeps_the_failed_candidates_staging_deployment(world):
    candidate = world.champion_and_candidate()
    void_by_artifacts(world, candidate)
    world.clock.advance(hours=2)

    report = world.sweeper.sweep()

    assert candidate.deployment in deployments(world)
    assert not any(candidate.deployment in line for line in report.repaired + report.reported)


def test_redeploy_after_a_void_asks_again_with_fresh_evidence_bound_to_the_new_artifacts(world):
    candidate = world.champion_and_candidate()
    old_document = world.evidence.for_approval(candidate.approval_id)
    void_by_artifacts(world, candidate)
    world.sweeper.sweep()

    world.candidates.redeploy("2")
    world.queue.drain()

    again = world.repos.candidates.get("2")
    assert again.status == AWAITING_APPROVAL and again.approval_id != candidate.approval_id
    assert [h["status"] for h in again.history].count("received") == 2, "a new run from the gate"
    approval = world.approvals.get(again.approval_id)
    document = world.evidence.for_approval(approval.id)
    assert approval.status == PENDING
    assert approval.evidence_digest == world.evidence.digest(document) != world.approvals.get(
        candidate.approval_id).evidence_digest
    assert approval.artifact_digest == document["artifact_digest"] == world.platform.model_artifact_digest(MODEL, "2")
    assert approval.artifact_digest != old_document["artifact_digest"]
    assert document["approval_id"] == approval.id and document["gate"] == again.gate
    assert world.evidence.for_approval(candidate.approval_id) == old_document, "the old document stays as issued"
    assert world.approvals.get(candidate.approval_id).status == VOID
    production = world.repos.production.get()
    assert (production.staging_deployment, production.staging_approval) == (candidate.deployment, approval.id)

    world.approvals.decide(approval.id, "approve", "ada@example.com")
    world.queue.drain()

    assert world.approvals.get(approval.id).status == "approved"
    assert world.repos.candidates.get("2").status == PROMOTED
    assert world.repos.production.get().champion_version == "2"


def test_a_void_never_resurrects_a_candidate_that_no_longer_awaits_that_approval(world):
    candidate = world.champion_and_candidate()
    world.repos.candidates.move_to("2", SUPERSEDED, world.clock(), "v3 is newer")
    sent = len(world.notifier.sent)

    void_by_artifacts(world, candidate)

    assert world.approvals.get(candidate.approval_id).status == VOID
    superseded = world.repos.candidates.get("2")
    assert superseded.status == SUPERSEDED and superseded.failed_step == "" and superseded.error == ""
    assert world.notifier.sent[sent:] == []
    with pytest.raises(Conflict, match="is not retryable|can be redeployed"):
        world.candidates.redeploy("2")


def test_a_decision_on_an_already_void_approval_finishes_failing_its_candidate_once(world):
    """The process died between the approval's void and the candidate's change: the next decision
    (a reviewer trying again) is refused with the reason and moves the candidate; later ones change nothing."""
    candidate = world.champion_and_candidate()
    world.repos.approvals.change(candidate.approval_id, lambda a: a.void("the evidence document changed", START))
    assert world.repos.candidates.get("2").status == AWAITING_APPROVAL
    sent = len(world.notifier.sent)

    for _ in range(2):
        with pytest.raises(Conflict, match="already void: the evidence document changed"):
            world.approvals.decide(candidate.approval_id, "reject", "bob@example.com")

    failed = world.repos.candidates.get("2")
    assert failed.status == FAILED and failed.failed_step == "approval request"
    assert "the evidence document changed" in failed.error
    assert [n.kind for n in world.notifier.sent[sent:]] == ["candidate.failed"]
    assert world.entries("voided") == [], "no second record of a void that was recorded (or not) before"


@pytest.mark.parametrize("status, approval_id", [(AWAITING_APPROVAL, "appr-other"), (SUPERSEDED, "appr-1"),
                                                 (FAILED, "appr-1"), (PROMOTED, "appr-1")])
def test_the_candidate_transition_moves_only_a_candidate_awaiting_that_approval(status, approval_id):
    candidate = Candidate(MODEL, "2", status, START.isoformat(), approval_id=approval_id)
    assert candidate.approval_voided("appr-1", "changed", START) is False
    assert (candidate.status, candidate.error, candidate.history) == (status, "", [])

    awaiting = Candidate(MODEL, "2", AWAITING_APPROVAL, START.isoformat(), approval_id="appr-1")
    assert awaiting.approval_voided("appr-1", "x" * 3000, START) is True
    assert awaiting.status == FAILED and len(awaiting.error) <= 2000 and len(awaiting.history[-1]["detail"]) <= 500
