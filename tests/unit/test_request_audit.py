"""The hash-chained audit log carries what was approved: the approval request and the decision entries
name the artifact and evidence digests, and a request step that crashed between storing the approval
and its audit entry writes that entry when it runs again (once)."""
from __future__ import annotations

from shared.domain.candidates import AWAITING_APPROVAL
from tests.builders import FakeWorld
from tests.unit.test_steps import registered


def entries(world, action: str) -> list[dict]:
    return [e for e in world.audit.read(1000) if e["action"] == action]


def dies_once(function, when):
    """`function`, except that the first call for which `when(argument)` holds kills the host."""
    died = []

    def dying(argument, *rest, **named):
        if not died and when(argument):
            died.append(argument)
            raise KeyboardInterrupt("host killed")
        return function(argument, *rest, **named)

    dying.died = died
    return dying


def deliver_all(world) -> None:
    """Every queued message, as a host would: a killed host leaves its message queued for redelivery."""
    for _ in range(40):
        if not world.queue.pending:
            return
        message_id, body, _ = world.queue.pending[0]
        try:
            world.steps.run(body, message_id, 1)
            world.queue.pending.pop(0)
        except KeyboardInterrupt:
            pass


def test_the_request_entry_names_the_digests_the_approval_is_bound_to():
    world = FakeWorld()
    candidate = world.candidates.handle_registered(registered("1"))
    approval = world.approvals.get(candidate.approval_id)
    [entry] = entries(world, "approval_requested")
    assert approval.artifact_digest.startswith("sha256:") and approval.evidence_digest.startswith("sha256:")
    assert (entry["artifact_digest"], entry["evidence_digest"]) == (approval.artifact_digest, approval.evidence_digest)


def test_a_crash_between_the_approval_and_its_entry_is_repaired_by_the_rerun():
    world = FakeWorld(inline_steps=False)
    world.candidates.handle_registered(registered("1"))
    world.audit.append = dies_once(world.audit.append, lambda entry: entry.get("action") == "approval_requested")

    deliver_all(world)

    assert world.audit.append.died, "the host died with the approval stored and its entry not written"
    candidate = world.repos.candidates.get("1")
    assert candidate.status == AWAITING_APPROVAL
    [entry] = entries(world, "approval_requested")
    approval = world.approvals.get(candidate.approval_id)
    assert entry["approval_id"] == approval.id and entry["evidence_digest"] == approval.evidence_digest
    assert world.services.audit.verify().ok


def test_a_rerun_after_the_entry_was_written_does_not_write_it_again():
    world = FakeWorld(inline_steps=False)
    world.candidates.handle_registered(registered("1"))
    world.notifier.notify = dies_once(world.notifier.notify, lambda note: note.kind == "approval.requested")

    deliver_all(world)

    assert world.notifier.notify.died
    assert world.repos.candidates.get("1").status == AWAITING_APPROVAL
    assert len(entries(world, "approval_requested")) == 1


def test_the_promoted_entry_names_the_digests_of_what_was_approved():
    world = FakeWorld()
    candidate = world.candidates.handle_registered(registered("1"))
    approval = world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    [entry] = entries(world, "promoted")
    assert entry["approval_id"] == approval.id
    assert (entry["artifact_digest"], entry["evidence_digest"]) == (approval.artifact_digest, approval.evidence_digest)
    assert entry["artifact_digest"].startswith("sha256:") and entry["evidence_digest"].startswith("sha256:")
