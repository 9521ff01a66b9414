"""The audit trail service on the fakes, wired by the composition root: every writer's entry moves
the recorded head, and verify names what an attacker changed, including a cut-off tail."""
from __future__ import annotations

import threading

from shared.domain.audit_chain import GENESIS, AuditHead
from shared.services.repositories.audit_head import KEY
from tests.builders import FakeWorld
from tests.fakes import FakeDocumentStore


def decisions(world: FakeWorld, n: int) -> list[dict]:
    return [world.services.audit.append({"action": "approved", "actor": f"r{i}@example.com", "version": str(i)})
            for i in range(n)]


def test_the_services_write_through_the_trail_so_the_head_follows_each_entry():
    world = FakeWorld()
    world.files.upload("data", "a.csv", (__import__("pathlib").Path(__file__).resolve().parents[2]
                                         / "data" / "diabetes-dev.csv").read_bytes())
    world.ingestion.handle_new_file("data", "a.csv")
    world.ingestion.withdraw("a.csv", by="dana")  # the ingestion service audits the withdrawal

    [entry] = world.audit.entries
    assert entry["action"] == "data_withdrawn" and entry["seq"] == 1
    assert world.documents.get(KEY).doc == {"seq": 1, "hash": entry["hash"]}
    assert world.services.audit.verify().as_json() == {"ok": True, "entries": 1, "first_broken": None,
                                                       "head_hash": entry["hash"]}


def test_an_edited_entry_is_named_by_verify():
    world = FakeWorld()
    stored = decisions(world, 4)
    world.audit.entries[1]["actor"] = "mallory@example.com"

    check = world.services.audit.verify()
    assert (check.ok, check.entries, check.first_broken_index, check.first_broken_id) == (False, 4, 1, stored[1]["hash"])
    assert check.reason.startswith("hash")


def test_removing_the_newest_entries_is_caught_against_the_recorded_head():
    world = FakeWorld()
    decisions(world, 4)
    del world.audit.entries[2:]

    check = world.services.audit.verify()
    assert not check.ok and check.first_broken_index == 2 and check.reason.startswith("truncated")


def test_a_head_left_behind_by_a_crash_is_accepted_and_moved_on_by_the_next_append():
    world = FakeWorld()
    stored = decisions(world, 2)
    world.audit.append({"action": "approved"})  # appended, then the writer stopped before the head update
    assert world.services.audit.head.get() == AuditHead(2, stored[1]["hash"])
    assert world.services.audit.verify().ok

    newest = world.services.audit.append({"action": "promoted"})
    assert world.services.audit.head.get() == AuditHead(4, newest["hash"])


def test_the_head_only_moves_forward_with_concurrent_writers():
    world = FakeWorld()
    threads = [threading.Thread(target=decisions, args=(world, 5)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    newest = world.audit.entries[-1]
    assert newest["seq"] == 20 and world.services.audit.head.get() == AuditHead(20, newest["hash"])
    assert world.services.audit.verify().ok


def test_an_empty_log_without_a_head_verifies():
    world = FakeWorld()
    assert world.services.audit.verify().as_json() == {"ok": True, "entries": 0, "first_broken": None,
                                                       "head_hash": GENESIS}
    assert isinstance(world.documents, FakeDocumentStore) and world.documents.get(KEY) is None


def test_a_head_that_cannot_be_written_does_not_fail_an_entry_that_landed(monkeypatch, caplog):
    from shared.domain.errors import Unavailable

    world = FakeWorld()
    decisions(world, 1)

    def storage_down(head):
        raise Unavailable("storage is unreachable while writing a state document")

    monkeypatch.setattr(world.services.audit.head, "advance", storage_down)
    stored = world.services.audit.append({"action": "promoted"})

    assert world.audit.entries[-1] == stored and "audit head not moved to entry 2" in caplog.text
    assert world.services.audit.head.get().seq == 1 and world.services.audit.verify().ok
