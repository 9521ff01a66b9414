"""AuditLog, one suite on the fake and on BlobAuditLog over a real Azurite: entries chained to the
tail they were appended after, newest first on read, oldest first on scan, and many writers at
once landing in one unbroken chain."""
from __future__ import annotations

import threading

import pytest

from shared.domain.audit_chain import GENESIS, head_of, verify
from shared.domain.errors import InvalidInput

WRITERS, PER_WRITER = 6, 8


def another_writer(audit_log, side, request):
    """A second log object on the same log, as another function instance would have."""
    if side == "fake":
        return audit_log
    from shared.adapters.blob_audit import BlobAuditLog
    from shared.adapters.blob_storage import blob_service

    blob = audit_log.blob
    return BlobAuditLog(blob_service(request.getfixturevalue("azurite")), blob.container_name, blob.blob_name)


def test_appends_are_chained_to_the_tail_and_returned_as_stored(audit_log):
    assert audit_log.read() == [] and list(audit_log.scan()) == []
    entry = {"action": "approved", "actor": "dana@example.com", "evidence": {"auc": 0.81, "note": "Müller\nline 2"}}
    stored = [audit_log.append(entry), audit_log.append({"action": "promoted", "recorded_at": "2026-01-01T00:00:00+00:00"}),
              audit_log.append({"action": "rolled_back", "version": 7})]

    assert "recorded_at" not in entry, "the caller's dict is not changed"
    assert [s["seq"] for s in stored] == [1, 2, 3]
    assert stored[0]["prev_hash"] == GENESIS and stored[1]["prev_hash"] == stored[0]["hash"]
    assert stored[2]["prev_hash"] == stored[1]["hash"]
    assert stored[0]["evidence"] == entry["evidence"] and stored[1]["recorded_at"] == "2026-01-01T00:00:00+00:00"
    assert list(audit_log.scan()) == stored
    assert audit_log.read() == stored[::-1] and audit_log.read(limit=1) == [stored[2]] and audit_log.read(0) == []
    assert verify(audit_log.scan(), head_of(stored[-1])).ok


def test_a_second_writer_appends_after_the_first(audit_log, side, request):
    first = audit_log.append({"action": "approved"})
    other = another_writer(audit_log, side, request)
    second = other.append({"action": "promoted"})
    assert (second["seq"], second["prev_hash"]) == (2, first["hash"])
    assert verify(audit_log.scan(), head_of(second)).ok


def test_a_large_entry_is_found_as_the_tail(audit_log):
    audit_log.append({"action": "approved"})
    big = audit_log.append({"action": "evidence", "table": "x" * 100_000})
    after = audit_log.append({"action": "promoted"})
    assert after["prev_hash"] == big["hash"] and after["seq"] == 3
    assert verify(audit_log.scan()).ok


def test_entries_that_are_not_objects_or_bring_chain_fields_are_refused(audit_log):
    with pytest.raises(InvalidInput, match="JSON object"):
        audit_log.append(["not", "an", "object"])
    with pytest.raises(InvalidInput, match="prev_hash"):
        audit_log.append({"action": "approved", "prev_hash": GENESIS})
    assert list(audit_log.scan()) == []


def test_concurrent_appenders_all_land_in_one_unbroken_chain(audit_log, side, request):
    audit_log.append({"action": "first"})  # the blob exists; the writers race for its tail
    writers = [another_writer(audit_log, side, request) for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(number: int):
        try:
            barrier.wait(10)
            for n in range(PER_WRITER):
                writers[number].append({"action": "approved", "writer": number, "n": n})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors

    entries = list(audit_log.scan())
    assert [e["seq"] for e in entries] == list(range(1, WRITERS * PER_WRITER + 2))
    assert {(e["writer"], e["n"]) for e in entries[1:]} == {(w, n) for w in range(WRITERS) for n in range(PER_WRITER)}
    for number in range(WRITERS):
        assert [e["n"] for e in entries if e.get("writer") == number] == list(range(PER_WRITER))
    assert verify(entries, head_of(entries[-1])).ok
