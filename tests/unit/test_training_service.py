from __future__ import annotations

from shared.domain.batches import BatchRef
from shared.domain.training import COMPLETED, FAILED, RUNNING, JobStatus, training_set_id


def ref(name: str) -> BatchRef:
    return BatchRef("data", name, f'"{name}"', f"sha-{name}")


def test_files_within_the_quiet_period_lead_to_one_job(world):
    for name in ("a.csv", "b.csv", "c.csv"):
        world.training.request_training(ref(name), f"new data {name}")
        world.clock.advance(seconds=4)
    assert world.training.submit_due_training() is None, "quiet period restarts with each file"

    world.clock.advance(seconds=7)
    job = world.training.submit_due_training()

    assert job is not None
    assert len(world.platform.submitted) == 1
    request = world.platform.submitted[0]
    assert {b.name for b in request.inputs} == {"a.csv", "b.csv", "c.csv"}
    assert request.training_set_id == training_set_id([ref("a.csv"), ref("b.csv"), ref("c.csv")])
    assert world.training.get_job(job.name).status == "queued" or world.training.get_job(job.name).status == RUNNING
    assert world.training.submit_due_training() is None, "the request is closed"


def test_next_job_trains_on_all_accepted_data_so_far(world):
    world.training.request_training(ref("a.csv"), "a")
    world.clock.advance(seconds=11)
    world.training.submit_due_training()
    world.training.request_training(ref("b.csv"), "b")
    world.clock.advance(seconds=11)

    second = world.training.submit_due_training()

    assert {b["name"] for b in second.batches} == {"a.csv", "b.csv"}
    assert len(world.platform.submitted) == 2


def test_repeated_request_for_the_same_batch_is_idempotent(world):
    world.training.request_training(ref("a.csv"), "a")
    world.training.request_training(ref("a.csv"), "a")
    assert len(world.repos.training_requests.open()["batches"]) == 1


def test_submission_retried_after_a_crash_submits_once(world, monkeypatch):
    world.training.request_training(ref("a.csv"), "a")
    world.clock.advance(seconds=11)
    monkeypatch.setattr(world.training, "_close_request", lambda *a: (_ for _ in ()).throw(RuntimeError("crash")))
    try:
        world.training.submit_due_training()
    except RuntimeError:
        pass
    monkeypatch.undo()

    world.training.submit_due_training()

    assert len(world.platform.submitted) == 1
    assert world.training.submit_due_training() is None


def test_failed_job_records_log_tail_and_notifies_once(world):
    world.training.request_training(ref("a.csv"), "a")
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()
    world.platform.statuses[job.name] = JobStatus(job.name, FAILED, log_tail="Traceback...\nValueError: boom", error="exit 1")

    first = world.training.record_job_status(job.name)
    world.training.record_job_status(job.name)

    assert first.status == FAILED
    assert "ValueError: boom" in first.log_tail
    assert [n.kind for n in world.notifier.sent] == ["job.failed"]


def test_terminal_status_never_regresses(world):
    world.training.request_training(ref("a.csv"), "a")
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()
    world.platform.complete(job.name, version="3")
    world.training.record_job_status(job.name)

    late = world.training.record_job_status(job.name, JobStatus(job.name, RUNNING))

    assert late.status == COMPLETED
    assert late.model_version == "3"


def test_a_request_without_new_data_trains_on_all_accepted_data(world):
    world.training.add_accepted(ref("a.csv"))
    world.training.add_accepted(ref("b.csv"))
    assert world.training.submit_due_training() is None, "accepted data alone asks for nothing"

    world.training.request_training(None, "data drift: BMI, Age")
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()

    assert {b["name"] for b in job.batches} == {"a.csv", "b.csv"}
    assert job.reason == "data drift: BMI, Age"
    assert world.training.pending_request() is None


def test_data_accepted_after_a_crashed_submission_is_not_lost(world, monkeypatch):
    world.training.request_training(ref("a.csv"), "a")
    world.clock.advance(seconds=11)
    monkeypatch.setattr(world.training, "_submit", lambda *a: (_ for _ in ()).throw(RuntimeError("crash")))
    try:
        world.training.submit_due_training()  # the job record (on a.csv) exists, nothing submitted
    except RuntimeError:
        pass
    monkeypatch.undo()
    world.training.request_training(ref("b.csv"), "b")
    world.clock.advance(seconds=11)

    first = world.training.submit_due_training()
    world.clock.advance(seconds=11)
    second = world.training.submit_due_training()

    assert [b["name"] for b in first.batches] == ["a.csv"]
    assert second is not None and {b["name"] for b in second.batches} == {"a.csv", "b.csv"}
