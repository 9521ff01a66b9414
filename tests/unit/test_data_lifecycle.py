"""Immutable training data on fakes: accepted bytes kept under their hash, re-uploads supersede,
deleted originals change nothing, withdrawals, and any legal blob name."""
from __future__ import annotations

import hashlib

import pytest

from shared.domain.batches import ACCEPTED, BatchRef, TrainingData
from shared.domain.errors import NotFound
from shared.services.repositories.batches import ACCEPTED_COPY_PREFIX

LONG_UNICODE = "données/" + "é" * 300 + "/" + "模型数据" * 170 + ".csv"  # 990 characters, 2,600+ bytes


def variant(csv: bytes, n: int) -> bytes:
    """The same file with one identifier changed: a new version of different bytes."""
    return csv.replace(b"\n1142956,", f"\n{1142956 + n},".encode(), 1)


def accept(world, name: str, data: bytes):
    world.files.upload("data", name, data)
    batch = world.ingestion.handle_new_file("data", name)
    assert batch.status == ACCEPTED, batch.summary
    return batch


def submit(world):
    world.clock.advance(seconds=11)
    return world.training.submit_due_training()


def test_the_accepted_bytes_are_copied_under_their_hash_and_jobs_read_the_copy(world, dev_csv):
    batch = accept(world, "2026/dev.csv", dev_csv)

    sha = hashlib.sha256(dev_csv).hexdigest()
    assert batch.copy_name == f"{ACCEPTED_COPY_PREFIX}{sha}"
    assert world.files.files[("data", batch.copy_name)] == (dev_csv, batch.copy_etag)
    [ref] = world.repos.accepted.all()
    assert (ref.name, ref.copy_name, ref.stored_at) == ("2026/dev.csv", batch.copy_name,
                                                        ("data", batch.copy_name, batch.copy_etag))
    submit(world)
    [request] = world.platform.submitted
    assert [b.stored_at for b in request.inputs] == [("data", batch.copy_name, batch.copy_etag)]


def test_our_own_copies_are_not_validated_again(world, dev_csv):
    batch = accept(world, "dev.csv", dev_csv)
    writes = world.documents.writes

    assert world.ingestion.handle_new_file("data", batch.copy_name) is None
    assert world.documents.writes == writes


def test_a_crash_between_the_copy_and_the_record_is_finished_by_the_redelivered_event(world, dev_csv, monkeypatch):
    world.files.upload("data", "dev.csv", dev_csv)
    original = world.repos.batches.add

    def crash(batch):
        monkeypatch.setattr(world.repos.batches, "add", original)
        raise RuntimeError("host died")

    monkeypatch.setattr(world.repos.batches, "add", crash)
    with pytest.raises(RuntimeError):
        world.ingestion.handle_new_file("data", "dev.csv")
    copies = {k: v for k, v in world.files.files.items() if k[1].startswith(ACCEPTED_COPY_PREFIX)}
    batch = world.ingestion.handle_new_file("data", "dev.csv")

    assert batch.status == ACCEPTED and batch.training_requested
    assert {k: v for k, v in world.files.files.items() if k[1].startswith(ACCEPTED_COPY_PREFIX)} == copies
    assert [b.copy_etag for b in world.repos.accepted.all()] == [batch.copy_etag]


def test_a_re_upload_supersedes_the_earlier_version_and_both_stay_visible(world, dev_csv):
    first = accept(world, "dev.csv", dev_csv)
    assert submit(world) is not None
    second = accept(world, "dev.csv", variant(dev_csv, 1))

    job = submit(world)

    assert [b["etag"] for b in job.batches] == [second.etag], "the next job trains on the new version only"
    listed = {b.etag: b for b in world.ingestion.list_batches().items}
    assert set(listed) == {first.etag, second.etag}
    assert listed[first.etag].superseded_by == second.id and listed[first.etag].superseded_at
    assert listed[second.etag].superseded_by is None
    assert world.training.pending_request() is None


def test_a_version_seen_before_the_newer_one_never_replaces_it():
    older, newer = (BatchRef("data", "f.csv", f'"{n}"', n * 64) for n in "ab")
    data = TrainingData()
    data.accept(newer, "2026-01-01T00:00:02.000+00:00")

    acceptance, changed = data.accept(older, "2026-01-01T00:00:01.000+00:00")

    assert not acceptance.joined and acceptance.superseded_by == newer.id and not changed
    assert data.batches == [newer]


def test_superseded_versions_in_the_pending_request_ask_for_no_further_job(world, dev_csv):
    accept(world, "dev.csv", dev_csv)
    accept(world, "dev.csv", variant(dev_csv, 1))  # both versions are in the pending request

    assert submit(world) is not None
    assert world.training.pending_request() is None
    assert submit(world) is None


def test_deleting_the_original_changes_nothing_for_training(world, dev_csv):
    batch = accept(world, "dev.csv", dev_csv)
    world.files.delete("data", "dev.csv")

    job = submit(world)

    [ref] = [BatchRef.from_dict(b) for b in job.batches]
    assert b"".join(world.files.read_chunks(*ref.stored_at)) == dev_csv
    assert ref.copy_name == batch.copy_name


def test_withdrawing_a_file_takes_every_version_out_of_later_training_sets(world, dev_csv):
    accept(world, "a.csv", dev_csv)
    accept(world, "a.csv", variant(dev_csv, 1))
    accept(world, "b.csv", variant(dev_csv, 2))

    result = world.ingestion.withdraw("a.csv", by="dana")

    assert [b.name for b in world.training.accepted_data()] == ["b.csv"]
    versions = [b for b in world.ingestion.list_batches().items if b.name == "a.csv"]
    assert len(versions) == 2 and all(v.withdrawn_at == result["withdrawn_at"] for v in versions)
    job = submit(world)
    assert {b["name"] for b in job.batches} == {"b.csv"}
    [entry] = [e for e in world.audit.entries if e["action"] == "data_withdrawn"]
    assert entry["file"] == "a.csv" and entry["actor"] == "dana" and sorted(entry["versions"]) == sorted(
        v.id for v in versions)


def test_withdrawing_again_changes_nothing_and_audits_once(world, dev_csv):
    accept(world, "a.csv", dev_csv)
    first = world.ingestion.withdraw("a.csv", by="dana")
    writes = world.documents.writes

    again = world.ingestion.withdraw("a.csv", by="someone else")

    assert again == first and world.documents.writes == writes
    assert len([e for e in world.audit.entries if e["action"] == "data_withdrawn"]) == 1


def test_a_later_upload_of_a_withdrawn_name_is_new_data(world, dev_csv):
    accept(world, "a.csv", dev_csv)
    world.ingestion.withdraw("a.csv", by="dana")
    world.clock.advance(seconds=1)

    later = accept(world, "a.csv", variant(dev_csv, 1))

    assert [b.etag for b in world.training.accepted_data()] == [later.etag] and later.withdrawn_at is None


def test_a_version_seen_before_its_withdrawal_stays_out_when_its_event_comes_late():
    ref = BatchRef("data", "f.csv", '"1"', "a" * 64)
    data = TrainingData()
    data.withdraw("f.csv", "2026-01-01T00:00:05.000+00:00", "dana")

    acceptance, changed = data.accept(ref, "2026-01-01T00:00:01.000+00:00")

    assert acceptance.withdrawn and not acceptance.joined and not changed and data.batches == []


def test_withdrawing_an_unknown_name_is_not_found(world):
    with pytest.raises(NotFound, match="unknown"):
        world.ingestion.withdraw("never-uploaded.csv", by="dana")
    assert world.audit.entries == []


@pytest.mark.parametrize("name", ["x" * 296 + ".csv", LONG_UNICODE, "a/" * 200 + "deep.csv"])
def test_any_legal_blob_name_is_accepted_and_every_derived_key_is_short(world, dev_csv, name):
    batch = accept(world, name, dev_csv)
    submit(world)

    assert [b.name for b in world.platform.submitted[0].inputs] == [name], "the name is kept as data"
    assert all(len(key) <= 120 and name not in key for key in world.documents.docs)
    assert all(len(file) <= 120 for container, file in world.files.files if file != name)
    assert batch.copy_name.startswith(ACCEPTED_COPY_PREFIX)
    assert world.ingestion.withdraw(name, by="dana")["versions"] == [batch.id]


def test_a_rejected_file_with_a_long_unicode_name_is_quarantined_under_a_bounded_name(world):
    name = LONG_UNICODE.replace(".csv", " ✓ bad.csv")
    world.files.upload("data", name, b"PatientID,Pregnancies\n1,2\n")

    batch = world.ingestion.handle_new_file("data", name)

    copy_name, reason = batch.quarantine["copy"], batch.quarantine["reason"]
    folder, _, file = copy_name.partition("/")
    assert folder == batch.id and len(file) <= 100 and file.isascii() and file.endswith("bad.csv")
    assert reason == f"{copy_name}.reason.json"
    assert world.files.files[("quarantine", copy_name)][0] == b"PatientID,Pregnancies\n1,2\n"
