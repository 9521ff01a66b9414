"""A decision step (promote, reject, promotion failed) or a rollback that crashed between the state
change and its audit entry writes that entry when its message is delivered again: once, chain intact."""
from __future__ import annotations

import pytest

from shared.domain.candidates import APPROVED, PROMOTION_FAILED, REJECTED
from tests.builders import FakeWorld
from tests.unit.test_request_audit import deliver_all, dies_once, entries
from tests.unit.test_steps import promote, registered


def awaiting(world: FakeWorld, version: str) -> str:
    world.queue.inline = True
    candidate = world.candidates.handle_registered(registered(version))
    world.queue.inline = False
    return candidate.approval_id


def crash_on(world: FakeWorld, action: str) -> None:
    world.audit.append = dies_once(world.audit.append, lambda entry: entry.get("action") == action)


@pytest.mark.parametrize("decision, action, final", [
    ("approve", "promoted", APPROVED),
    ("reject", "rejected", REJECTED),
])
def test_a_crash_before_the_decision_entry_is_repaired_by_the_redelivered_step(decision, action, final):
    world = FakeWorld(inline_steps=False)
    approval_id = awaiting(world, "1")
    crash_on(world, action)

    world.approvals.decide(approval_id, decision, "ada@example.com")
    deliver_all(world)

    assert world.audit.append.died, "the host died with the approval final and its entry not written"
    approval = world.approvals.get(approval_id)
    assert approval.status == final
    [entry] = entries(world, action)
    assert entry["approval_id"] == approval_id and entry["actor"] == "ada@example.com"
    assert entry["evidence_digest"] == approval.evidence_digest
    assert world.services.audit.verify().ok


def test_a_crash_before_the_promotion_failed_entry_is_repaired_by_the_redelivered_step():
    world = FakeWorld(inline_steps=False)
    world.queue.inline = True
    promote(world, "1")
    world.queue.inline = False
    approval_id = awaiting(world, "2")
    world.endpoints.answers[world.approvals.get(approval_id).deployment] = {"error": "502 Bad Gateway"}
    crash_on(world, "promotion_failed")

    world.approvals.decide(approval_id, "approve", "ada@example.com")
    deliver_all(world)

    assert world.audit.append.died
    assert world.approvals.get(approval_id).status == PROMOTION_FAILED
    [entry] = entries(world, "promotion_failed")
    assert entry["approval_id"] == approval_id and "does not answer" in entry["reason"]
    assert world.services.audit.verify().ok


def test_a_redelivered_decision_step_after_its_entry_was_written_writes_it_not_again():
    world = FakeWorld(inline_steps=False)
    approval_id = awaiting(world, "1")
    world.notifier.notify = dies_once(world.notifier.notify, lambda note: note.kind == "approval.approved")

    world.approvals.decide(approval_id, "approve", "ada@example.com")
    deliver_all(world)

    assert world.notifier.notify.died
    assert world.approvals.get(approval_id).status == APPROVED
    assert len(entries(world, "promoted")) == 1


def test_a_crash_before_the_rolled_back_entry_is_repaired_by_the_redelivered_step():
    world = FakeWorld(inline_steps=False)
    world.queue.inline = True
    promote(world, "1")
    promote(world, "2")
    world.queue.inline = False
    crash_on(world, "rolled_back")

    world.rollback.rollback("ops", "v2 misbehaves")
    deliver_all(world)

    assert world.audit.append.died
    assert world.repos.production.get().champion_version == "1"
    [entry] = entries(world, "rolled_back")
    assert (entry["version"], entry["from_version"], entry["actor"]) == ("1", "2", "ops")
    assert world.services.audit.verify().ok


def test_a_rollback_redelivered_after_its_entry_was_written_writes_it_not_again():
    world = FakeWorld(inline_steps=False)
    world.queue.inline = True
    promote(world, "1")
    promote(world, "2")
    world.queue.inline = False
    # the host dies closing the switch step, after the entry was written
    world.repos.production.change = dies_once(world.repos.production.change,
                                              lambda _: bool(entries(world, "rolled_back")))

    world.rollback.rollback("ops", "v2 misbehaves")
    deliver_all(world)

    assert world.repos.production.change.died
    assert world.repos.production.get().champion_version == "1"
    assert len(entries(world, "rolled_back")) == 1
    assert world.services.audit.verify().ok


def test_a_second_rollback_is_recorded_as_its_own_entry():
    world = FakeWorld()
    promote(world, "1")
    promote(world, "2")
    world.rollback.rollback("ops", "v2 misbehaves")
    world.clock.advance(minutes=1)
    world.rollback.rollback("ops", "back to v2")

    assert [(e["version"], e["from_version"]) for e in entries(world, "rolled_back")] == [("2", "1"), ("1", "2")]
