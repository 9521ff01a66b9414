"""BlobAuditLog against a real Azurite: an append blob, concurrent appends, newest first."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest

from shared.adapters.blob_audit import BlobAuditLog
from shared.adapters.blob_storage import blob_service

pytestmark = pytest.mark.integration

THREADS, PER_THREAD = 8, 10


@pytest.fixture
def container() -> str:
    return f"audit-{uuid.uuid4().hex[:8]}"


def test_concurrent_appends_from_many_writers_lose_nothing(azurite, container):
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(thread: int):
        try:
            # One client and one log per thread, like separate function instances; the blob does not
            # exist yet, so they all race to create it.
            audit = BlobAuditLog(blob_service(azurite), container)
            barrier.wait(10)
            for seq in range(PER_THREAD):
                audit.append({"thread": thread, "seq": seq, "decision": "approve", "by": f"user{thread}@example.com"})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors

    audit = BlobAuditLog(blob_service(azurite), container)
    entries = audit.read(limit=1000)
    assert len(entries) == THREADS * PER_THREAD
    assert {(e["thread"], e["seq"]) for e in entries} == {(t, s) for t in range(THREADS) for s in range(PER_THREAD)}
    # Newest first: each writer's own entries come back in reverse order of writing.
    for thread in range(THREADS):
        assert [e["seq"] for e in entries if e["thread"] == thread] == list(range(PER_THREAD - 1, -1, -1))
    assert all(datetime.fromisoformat(e["recorded_at"]).tzinfo is not None for e in entries)

    newest = audit.read(limit=5)
    assert newest == entries[:5]

    properties = audit.blob.get_blob_properties()
    assert properties.blob_type == "AppendBlob"
    assert properties.size == len(audit.blob.download_blob().readall())
    body = audit.blob.download_blob().readall()
    assert body.count(b"\n") == THREADS * PER_THREAD and body.endswith(b"\n")


def test_order_recorded_at_and_no_rewrites(azurite, container):
    times = iter(datetime(2026, 11, 22, 12, 0, s, tzinfo=timezone.utc) for s in range(60))
    audit = BlobAuditLog(blob_service(azurite), container, "audit/test.jsonl", clock=lambda: next(times))
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
    assert entries[2] == {**entry, "recorded_at": "2026-11-22T12:00:00+00:00"}
    assert audit.read(limit=1) == entries[:1] and audit.read(limit=0) == []

    # A second log object on the existing blob appends after the others; it never recreates (truncates) it.
    other = BlobAuditLog(blob_service(azurite), container, "audit/test.jsonl")
    other.append({"decision": "approve", "by": "second instance"})
    assert [e.get("by") for e in other.read()] == ["second instance", None, None, None]
