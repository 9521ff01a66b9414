from __future__ import annotations

import json
import threading

from shared.domain.batches import ACCEPTED, REJECTED, batch_id


def test_valid_file_is_accepted_and_requests_training(world, dev_csv):
    world.files.upload("data", "2026/dev.csv", dev_csv)

    batch = world.ingestion.handle_new_file("data", "2026/dev.csv")

    assert batch.status == ACCEPTED
    assert batch.rows == 5000
    assert batch.training_requested
    pending = world.repos.training_requests.open()
    assert [b["name"] for b in pending["batches"]] == ["2026/dev.csv"]
    assert len(world.repos.accepted.all()) == 1
    assert world.notifier.sent == []


def test_rejected_file_is_quarantined_with_reason_and_kept(world):
    bad = b"PatientID,Pregnancies\n1,2\n"
    etag = world.files.upload("data", "bad.csv", bad)

    batch = world.ingestion.handle_new_file("data", "bad.csv")

    assert batch.status == REJECTED
    assert "missing" in batch.summary.lower()
    folder = batch_id("bad.csv", etag)  # a hash folder per version (the name is data, not a path)
    assert world.files.files[("quarantine", f"{folder}/bad.csv")][0] == bad
    reason = json.loads(world.files.files[("quarantine", f"{folder}/bad.csv.reason.json")][0])
    assert reason["summary"] == batch.summary
    assert ("data", "bad.csv") in world.files.files, "the original is never deleted"
    assert world.repos.training_requests.open() is None, "no training for rejected data"
    assert [n.kind for n in world.notifier.sent] == ["data.rejected"]


def test_redelivery_of_the_same_version_decides_once(world, dev_csv):
    world.files.upload("data", "dev.csv", dev_csv)
    first = world.ingestion.handle_new_file("data", "dev.csv")
    writes = world.documents.writes

    again = world.ingestion.handle_new_file("data", "dev.csv")

    assert again.to_dict() == first.to_dict()
    assert world.documents.writes == writes


def test_new_version_of_a_file_is_a_new_batch(world, dev_csv):
    world.files.upload("data", "dev.csv", dev_csv)
    world.ingestion.handle_new_file("data", "dev.csv")
    world.files.upload("data", "dev.csv", dev_csv.replace(b"\n1142956,", b"\n1142957,"))
    world.ingestion.handle_new_file("data", "dev.csv")

    assert len(world.ingestion.list_batches(ACCEPTED).items) == 2


def test_concurrent_deliveries_record_one_decision(world, dev_csv):
    world.files.upload("data", "dev.csv", dev_csv)
    results = []
    threads = [threading.Thread(target=lambda: results.append(world.ingestion.handle_new_file("data", "dev.csv"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len({r.decided_at for r in results}) == 1
    assert len(world.repos.training_requests.open()["batches"]) == 1


def test_a_crash_between_accept_and_training_request_is_repaired_on_redelivery(world, dev_csv, monkeypatch):
    world.files.upload("data", "dev.csv", dev_csv)
    calls = {"n": 0}
    original = world.training.request_training

    def crash_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("host died")
        return original(*args, **kwargs)

    monkeypatch.setattr(world.training, "request_training", crash_once)
    try:
        world.ingestion.handle_new_file("data", "dev.csv")
    except RuntimeError:
        pass
    batch = world.ingestion.handle_new_file("data", "dev.csv")

    assert batch.training_requested
    assert len(world.repos.training_requests.open()["batches"]) == 1


def test_without_training_on_new_data_an_accepted_file_only_joins_the_training_data(world, dev_csv):
    from dataclasses import replace

    world.ingestion.config = replace(world.ingestion.config, train_on_new_data=False)
    world.files.upload("data", "dev.csv", dev_csv)

    batch = world.ingestion.handle_new_file("data", "dev.csv")

    assert batch.status == ACCEPTED and batch.training_requested
    assert world.training.pending_request() is None
    assert [b.name for b in world.training.accepted_data()] == ["dev.csv"]
