"""The queued step pipeline on fakes: duplicates, reordering, crashes between any two writes,
poison messages, long deployments polled without waiting, health-checked promotion."""
from __future__ import annotations

import pytest

from shared.domain.candidates import AWAITING_APPROVAL, DEPLOYING, FAILED, PROMOTED, PROMOTION_FAILED
from shared.domain.errors import PlatformError
from shared.domain.models import ModelRegistered
from shared.domain.steps import StepMessage
from shared.ports import DeploymentInfo
from tests.builders import ENDPOINT, MODEL, FakeWorld


def registered(version: str) -> ModelRegistered:
    return ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}")


def deliver_all(world: FakeWorld, rounds: int = 50) -> list[str]:
    """Deliver every queued message once per round (as a host would), newest last; outcomes."""
    outcomes = []
    for _ in range(rounds):
        if not world.queue.pending:
            break
        message_id, body, _ = world.queue.pending.pop(0)
        outcomes.append(world.steps.run(body, message_id, 1))
    return outcomes


def test_duplicated_and_reordered_messages_deploy_once():
    world = FakeWorld(inline_steps=False)
    world.candidates.handle_registered(registered("1"))
    first = world.queue.pending[0]
    world.queue.pending.extend([first] * 20)  # the same message delivered 21 times
    world.queue.pending.insert(0, ("late", StepMessage("candidate", "1", "smoke_test").to_json(), 0))

    outcomes = deliver_all(world, 500)

    assert world.repos.candidates.get("1").status == AWAITING_APPROVAL
    assert [c for c in world.endpoints.calls if c[0] == "deploy"] == [("deploy", "diabetes-classif-v1", "1")]
    assert outcomes[0] == "stale" and outcomes.count("stale") >= 20


@pytest.mark.parametrize("crash_at", range(1, 6))
def test_a_crash_after_any_step_resumes_from_the_redelivered_message(crash_at):
    """The process dies right after a step moved the record on, before the next message went out."""
    world = FakeWorld(inline_steps=False)
    world.candidates.handle_registered(registered("1"))
    sends = {"n": 0}
    real_enqueue = world.queue.enqueue

    def dying_enqueue(body, delay_seconds=0):
        sends["n"] += 1
        if sends["n"] == crash_at:
            raise KeyboardInterrupt("host killed")
        real_enqueue(body, delay_seconds)

    world.queue.enqueue = dying_enqueue
    for _ in range(30):
        if not world.queue.pending:
            break
        message_id, body, _ = world.queue.pending[0]
        try:
            world.steps.run(body, message_id, 1)
            world.queue.pending.pop(0)
        except KeyboardInterrupt:
            pass  # the message stays in the queue: delivered again after the visibility timeout

    assert world.repos.candidates.get("1").status == AWAITING_APPROVAL
    assert len([c for c in world.endpoints.calls if c[0] == "deploy"]) == 1


def test_a_step_failing_on_every_delivery_fails_the_candidate_and_lands_in_poison():
    world = FakeWorld()
    world.endpoints.fail["ensure_endpoint"] = PlatformError("ARM is down")

    candidate = world.candidates.handle_registered(registered("1"))

    assert candidate.status == FAILED and "ARM is down" in candidate.error and "after 5 tries" in candidate.error
    assert candidate.failed_step == "staging deployment"
    assert len(world.queue.poison) == 1 and '"step":"deploy"' in world.queue.poison[0]
    del world.endpoints.fail["ensure_endpoint"]
    assert world.candidates.redeploy("1").status == AWAITING_APPROVAL


def test_a_long_deployment_is_polled_not_waited_for():
    world = FakeWorld(inline_steps=False)
    world.candidates.handle_registered(registered("1"))
    states = iter(["Creating"] * 3 + ["Succeeded"])
    real = world.endpoints.get_deployment

    def slow(endpoint, deployment):
        info = real(endpoint, deployment)
        return DeploymentInfo(info.name, info.model_name, info.model_version, next(states, "Succeeded"))

    world.endpoints.get_deployment = slow
    outcomes = deliver_all(world)

    assert outcomes.count("polled") == 3
    assert all(delay == 5 for body, delay in world.queue.sent if '"await_deployment"' in body)
    assert world.repos.candidates.get("1").status == AWAITING_APPROVAL


def test_a_deployment_that_never_answers_fails_after_the_timeout():
    world = FakeWorld(inline_steps=False, DEPLOYMENT_TIMEOUT_SECONDS="60")
    world.candidates.handle_registered(registered("1"))
    real = world.endpoints.get_deployment
    world.endpoints.get_deployment = lambda e, d: DeploymentInfo(d, MODEL, "1", "Creating") if real(e, d) else None
    for _ in range(5):
        deliver_all(world, 1 if world.repos.candidates.get("1").status == DEPLOYING else 3)
        world.clock.advance(seconds=30)
    deliver_all(world)
    candidate = world.repos.candidates.get("1")
    assert candidate.status == FAILED and "did not answer within 60 s" in candidate.error


def promote(world: FakeWorld, version: str):
    candidate = world.candidates.handle_registered(registered(version))
    return world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")


def test_a_dead_staging_deployment_is_not_promoted_and_nothing_is_deleted():
    world = FakeWorld()
    promote(world, "1")
    candidate = world.candidates.handle_registered(registered("2"))
    world.endpoints.answers[candidate.deployment] = {"error": "502 Bad Gateway"}  # its server died

    decided = world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")

    assert decided.status == PROMOTION_FAILED and "does not answer" in decided.reason
    endpoint = world.endpoints.get_endpoint(ENDPOINT)
    assert endpoint.traffic == {"diabetes-classif-v1": 100}
    assert {d.name for d in endpoint.deployments} == {"diabetes-classif-v1", candidate.deployment}
    assert world.repos.production.get().champion_version == "1"
    assert world.notifier.sent[-1].kind == "approval.promotion_failed"


def test_the_previous_champion_is_kept_for_the_bake_period_then_removed():
    world = FakeWorld(PROMOTION_BAKE_MINUTES="30")
    promote(world, "1")
    promote(world, "2")
    names = {d.name for d in world.endpoints.get_endpoint(ENDPOINT).deployments}
    assert names == {"diabetes-classif-v1", "diabetes-classif-v2"}, "kept: a rollback is a traffic switch"
    world.sweeper.sweep()
    assert "diabetes-classif-v1" in {d.name for d in world.endpoints.get_endpoint(ENDPOINT).deployments}

    world.clock.advance(minutes=31)
    report = world.sweeper.sweep()

    assert {d.name for d in world.endpoints.get_endpoint(ENDPOINT).deployments} == {"diabetes-classif-v2"}
    assert any("bake period over" in line for line in report.repaired)
    assert world.repos.production.get().previous_version == "1"


def test_a_production_deployment_that_stops_answering_is_rolled_back_to_the_kept_champion():
    world = FakeWorld()
    promote(world, "1")
    promote(world, "2")
    assert world.repos.candidates.get("2").status == PROMOTED
    world.endpoints.answers["diabetes-classif-v2"] = {"error": "502"}
    real_invoke = world.endpoints.invoke

    def live(endpoint, body, deployment=None, timeout_seconds=30):
        live_deployment = next(iter(world.endpoints.endpoints[endpoint]["traffic"]), None)
        return real_invoke(endpoint, body, deployment or live_deployment, timeout_seconds)

    world.endpoints.invoke = live
    report = world.sweeper.sweep()

    assert any("automatic rollback to v1" in line for line in report.reported)
    production = world.repos.production.get()
    assert (production.champion_version, production.champion_deployment) == ("1", "diabetes-classif-v1")
    assert world.endpoints.get_endpoint(ENDPOINT).traffic == {"diabetes-classif-v1": 100}
    assert world.notifier.sent[-1].kind == "production.unhealthy"


def test_without_a_kept_champion_the_sweeper_redeploys_production():
    world = FakeWorld(PROMOTION_BAKE_MINUTES="0")
    promote(world, "1")
    world.endpoints.answers["diabetes-classif-v1"] = {"error": "502"}
    real_invoke = world.endpoints.invoke
    world.endpoints.invoke = lambda e, b, deployment=None, timeout_seconds=30: real_invoke(
        e, b, deployment or "diabetes-classif-v1", timeout_seconds)
    deploys = len([c for c in world.endpoints.calls if c[0] == "deploy"])

    report = world.sweeper.sweep()

    assert any("redeploying diabetes-classif-v1" in line for line in report.reported)
    assert len([c for c in world.endpoints.calls if c[0] == "deploy"]) == deploys + 1


def test_rollback_is_a_claimed_step_and_a_second_one_conflicts():
    world = FakeWorld(inline_steps=False)
    world.queue.inline = True
    promote(world, "1")
    promote(world, "2")
    world.queue.inline = False
    world.rollback.rollback("ops", "v2 misbehaves")
    from shared.domain.errors import Conflict

    with pytest.raises(Conflict, match="under way"):
        world.rollback.rollback("ops2")
    deliver_all(world)
    assert world.repos.production.get().champion_version == "1"
    assert world.endpoints.get_endpoint(ENDPOINT).traffic == {"diabetes-classif-v1": 100}


def test_a_late_copy_of_a_failed_step_changes_nothing():
    world = FakeWorld()
    promote(world, "1")
    candidate = world.candidates.handle_registered(registered("2"))
    world.endpoints.fail["set_traffic"] = PlatformError("ARM said 500")
    decided = world.approvals.decide(candidate.approval_id, "approve", "ada")
    assert decided.status == PROMOTION_FAILED
    del world.endpoints.fail["set_traffic"]

    late = StepMessage("approval", candidate.approval_id, "promote").to_json()
    assert world.steps.run(late, "late-copy", 1) == "stale"
    assert world.approvals.get(candidate.approval_id).status == PROMOTION_FAILED
    assert world.repos.production.get().champion_version == "1"


def test_the_sweeper_leaves_traffic_alone_while_a_promotion_switches_it():
    world = FakeWorld()
    promote(world, "1")
    candidate = world.candidates.handle_registered(registered("2"))
    world.queue.inline = False
    world.approvals.decide(candidate.approval_id, "approve", "ada")
    deliver_all(world, 1)  # promote: traffic moved, verify not yet run
    assert world.endpoints.get_endpoint(ENDPOINT).traffic == {candidate.deployment: 100}

    world.sweeper.sweep()
    deliver_all(world)

    assert world.endpoints.get_endpoint(ENDPOINT).traffic == {candidate.deployment: 100}
    assert world.approvals.get(candidate.approval_id).status == "approved"


def test_a_lost_rollback_message_is_sent_again_by_the_sweeper():
    world = FakeWorld()
    promote(world, "1")
    promote(world, "2")
    world.queue.inline = False
    world.rollback.rollback("ops", "drill")
    world.queue.pending.clear()  # the message is lost
    world.clock.advance(minutes=16)

    report = world.sweeper.sweep()
    deliver_all(world)

    assert "rollback stuck: step sent again" in report.repaired
    assert world.repos.production.get().champion_version == "1"


def test_a_redeploy_that_crashed_before_its_message_is_resumed_by_the_sweeper():
    world = FakeWorld()
    world.endpoints.fail["ensure_endpoint"] = PlatformError("ARM is down")
    world.candidates.handle_registered(registered("1"))
    del world.endpoints.fail["ensure_endpoint"]
    world.queue.inline = False
    world.candidates.redeploy("1")
    world.queue.pending.clear()  # died before the step message went out
    world.clock.advance(minutes=16)

    world.sweeper.sweep()
    deliver_all(world)

    assert world.repos.candidates.get("1").status == AWAITING_APPROVAL


def test_an_older_candidate_that_reaches_its_approval_request_after_a_newer_one_passed_its_gate_is_superseded():
    world = FakeWorld(inline_steps=False)
    world.candidates.handle_registered(registered("2"))
    deliver_all(world, 2)  # v2: gate and deploy started
    world.candidates.handle_registered(registered("3"))
    deliver_all(world)

    assert world.repos.candidates.get("3").status == AWAITING_APPROVAL
    assert world.repos.candidates.get("2").status == "superseded"
    pending = [a for a in world.approvals.list("pending").items]
    assert [a.candidate_version for a in pending] == ["3"]


def test_a_reject_whose_teardown_keeps_failing_is_still_a_rejection_and_the_sweeper_removes_staging():
    world = FakeWorld()
    promote(world, "1")
    candidate = world.candidates.handle_registered(registered("2"))
    world.endpoints.fail["delete_deployment"] = PlatformError("ARM is down")

    decided = world.approvals.decide(candidate.approval_id, "reject", "bob")

    assert decided.status == "rejected" and "staging teardown failed" in decided.reason
    assert world.repos.candidates.get("2").status == "rejected"
    del world.endpoints.fail["delete_deployment"]
    world.sweeper.sweep()
    assert candidate.deployment not in {d.name for d in world.endpoints.get_endpoint(ENDPOINT).deployments}


def test_one_failing_part_of_the_sweep_leaves_the_others_to_run():
    world = FakeWorld(PROMOTION_BAKE_MINUTES="30")
    promote(world, "1")
    promote(world, "2")
    world.clock.advance(minutes=31)
    world.endpoints.fail["set_traffic"] = PlatformError("ARM is down")
    world.endpoints.endpoints[ENDPOINT]["traffic"] = {}  # traffic lost: reconciliation will try to repair it

    report = world.sweeper.sweep()

    assert any(line.startswith("reconciliation: not swept") for line in report.reported)
    assert any("bake period over" in line for line in report.repaired), "the bake still ended"
