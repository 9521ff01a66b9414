"""BlobAuditLog against a real Azurite: an append blob, chained appends from many writers, newest
first; the tail read by range; a retried append that landed is not repeated; a writer that keeps
losing gives up with Unavailable."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest
from azure.core.exceptions import ResourceModifiedError

from shared.adapters import blob_audit
from shared.adapters.blob_audit import BlobAuditLog
from shared.adapters.blob_storage import blob_service
from shared.domain.audit_chain import verify
from shared.domain.errors import Unavailable

pytestmark = pytest.mark.integration

THREADS, PER_THREAD = 8, 10


@pytest.fixture
def container() -> str:
    return f"audit-{uuid.uuid4().hex[:8]}"


def lost_race() -> ResourceModifiedError:
    """What Append Block answers when the blob's length is not the append position given."""
    error = ResourceModifiedError(message="The append position condition specified was not met.")
    error.status_code = 412
    return error


def test_concurrent_appends_from_many_writers_lose_nothing(azurite, container):
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(thread: int):
        try:
            # One client and one log per thread, like separate function instances; the blob does not
            # exist yet, so they all race to create it.
            audit = BlobAuditLog(blob_service(azurite), container)
            barrier.wait(10)
            for n in range(PER_THREAD):
                audit.append({"thread": thread, "n": n, "decision": "approve", "by": f"user{thread}@example.com"})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors

    audit = BlobAuditLog(blob_service(azurite), container)
    entries = audit.read(limit=1000)
    assert len(entries) == THREADS * PER_THREAD
    assert {(e["thread"], e["n"]) for e in entries} == {(t, s) for t in range(THREADS) for s in range(PER_THREAD)}
    # Newest first: each writer's own entries come back in reverse order of writing.
    for thread in range(THREADS):
        assert [e["n"] for e in entries if e["thread"] == thread] == list(range(PER_THREAD - 1, -1, -1))
    assert all(datetime.fromisoformat(e["recorded_at"]).tzinfo is not None for e in entries)
    assert [e["seq"] for e in entries] == list(range(THREADS * PER_THREAD, 0, -1))
    assert verify(audit.scan()).ok

    newest = audit.read(limit=5)
    assert newest == entries[:5]

    properties = audit.blob.get_blob_properties()
    assert properties.blob_type == "AppendBlob" and properties.content_settings.content_type == "application/x-ndjson"
    body = audit.blob.download_blob().readall()
    assert properties.size == len(body)
    assert body.count(b"\n") == THREADS * PER_THREAD and body.endswith(b"\n")


def test_order_recorded_at_and_no_rewrites(azurite, container):
    times = iter(datetime(2026, 11, 22, 12, 0, s, tzinfo=timezone.utc) for s in range(60))
    audit = BlobAuditLog(blob_service(azurite), container, "test.jsonl", clock=lambda: next(times))
    assert audit.read() == []  # no blob yet

    entry = {"decision": "reject", "reason": "worse AUC\nsee details", "evidence": {"auc": 0.8}}
    audit.append(entry)
    audit.append({"decision": "approve", "recorded_at": "2026-01-01T00:00:00+00:00"})
    audit.append({"decision": "approve", "model": "diabetes-classifier", "version": 7})
    assert "recorded_at" not in entry, "the caller's dict is not changed"

    entries = audit.read()
    assert [e["decision"] for e in entries] == ["approve", "approve", "reject"]
    assert entries[0]["recorded_at"] == "2026-11-22T12:00:01+00:00"
    assert entries[1]["recorded_at"] == "2026-01-01T00:00:00+00:00", "a given recorded_at is kept"
    chain = {"seq", "prev_hash", "hash"}
    assert {k: v for k, v in entries[2].items() if k not in chain} == {**entry, "recorded_at": "2026-11-22T12:00:00+00:00"}
    assert audit.read(limit=1) == entries[:1] and audit.read(limit=0) == []

    # A second log object on the existing blob appends after the others; it never recreates (truncates) it.
    other = BlobAuditLog(blob_service(azurite), container, "test.jsonl")
    other.append({"decision": "approve", "by": "second instance"})
    assert [e.get("by") for e in other.read()] == ["second instance", None, None, None]
    assert verify(other.scan()).ok


def test_the_tail_is_read_by_range_not_the_whole_blob(azurite, container):
    audit = BlobAuditLog(blob_service(azurite), container)
    for n in range(40):
        audit.append({"decision": "approve", "n": n, "padding": "x" * 1000})
    size = audit.blob.get_blob_properties().size
    assert size > 4 * blob_audit.TAIL_BYTES

    reads = []
    download = audit.blob.download_blob
    audit.blob.download_blob = lambda **kwargs: reads.append(kwargs) or download(**kwargs)
    audit.append({"decision": "approve", "n": 40})

    assert reads and all(r["offset"] > 0 and r["length"] <= blob_audit.TAIL_BYTES for r in reads)


def test_a_retried_append_that_had_landed_is_not_repeated(azurite, container):
    audit = BlobAuditLog(blob_service(azurite), container)
    audit.append({"decision": "approve"})
    append_block = audit.blob.append_block
    answers = iter([lambda *a, **k: (append_block(*a, **k), (_ for _ in ()).throw(lost_race()))])

    def landed_but_answer_lost(*args, **kwargs):
        # The SDK's own retry of an append whose answer was lost meets its own entry: 412.
        return next(answers, append_block)(*args, **kwargs)

    audit.blob.append_block = landed_but_answer_lost
    stored = audit.append({"decision": "promote"})

    entries = list(audit.scan())
    assert [e["decision"] for e in entries] == ["approve", "promote"] and entries[-1] == stored
    assert verify(entries).ok


def test_a_writer_that_keeps_losing_the_race_gives_up_with_unavailable(azurite, container, monkeypatch):
    pauses = []
    audit = BlobAuditLog(blob_service(azurite), container, pause=pauses.append)
    audit.append({"decision": "approve"})

    def always_lost(*args, **kwargs):
        raise lost_race()

    audit.blob.append_block = always_lost
    with pytest.raises(Unavailable, match="busy"):
        audit.append({"decision": "promote"})
    assert len(pauses) == blob_audit.APPEND_ATTEMPTS and max(pauses) <= 0.1
    assert [e["decision"] for e in audit.scan()] == ["approve"]
