"""The audit chain rule (shared/domain/audit_chain.py): the hash is defined exactly, and an edited,
removed, moved, inserted or cut-off entry is caught and named."""
from __future__ import annotations

import copy
import hashlib
import json

import pytest

from shared.domain.audit_chain import GENESIS, AuditHead, canonical, chained, entry_hash, head_of, verify
from shared.domain.errors import InvalidInput


def log_of(n: int) -> list[dict]:
    entries: list[dict] = []
    for i in range(n):
        entries.append(chained({"action": "approved", "actor": f"reviewer{i}@example.com", "version": str(i),
                                "evidence": {"auc": 0.8 + i / 100, "note": "Müller"}}, entries[-1] if entries else None))
    return entries


def test_the_hash_is_sha256_of_the_previous_hash_and_the_sorted_compact_utf8_json_without_hash():
    first = chained({"b": "é", "a": 1}, None)
    assert first["seq"] == 1 and first["prev_hash"] == GENESIS == "0" * 64
    expected_bytes = '{"a":1,"b":"é","prev_hash":"' + GENESIS + '","seq":1}'
    assert canonical(first) == expected_bytes.encode("utf-8")
    assert first["hash"] == hashlib.sha256(GENESIS.encode() + expected_bytes.encode("utf-8")).hexdigest()

    second = chained({"a": 2}, first)
    assert second["seq"] == 2 and second["prev_hash"] == first["hash"]
    assert second["hash"] == entry_hash(first["hash"], second)
    assert head_of(second) == AuditHead(2, second["hash"])


def test_an_entry_may_not_bring_its_own_chain_fields():
    with pytest.raises(InvalidInput, match="seq, hash"):
        chained({"seq": 3, "hash": "x", "action": "approved"}, None)


def test_an_intact_log_verifies_and_reports_its_head():
    entries = log_of(5)
    check = verify(entries, head_of(entries[-1]))
    assert check.ok and check.entries == 5 and check.head_hash == entries[-1]["hash"]
    assert check.as_json() == {"ok": True, "entries": 5, "first_broken": None, "head_hash": entries[-1]["hash"]}
    assert verify([]).ok and verify([]).head_hash == GENESIS


def test_an_edited_entry_is_named():
    entries = log_of(5)
    entries[2]["actor"] = "mallory@example.com"
    check = verify(entries, head_of(entries[-1]))
    assert not check.ok and check.first_broken_index == 2 and check.first_broken_id == entries[2]["hash"]
    assert check.reason.startswith("hash")
    assert check.as_json()["first_broken"] == {"index": 2, "id": entries[2]["hash"], "reason": check.reason}


def test_an_edit_that_recomputes_the_entrys_own_hash_breaks_the_next_link():
    entries = log_of(5)
    entries[2]["actor"] = "mallory@example.com"
    entries[2]["hash"] = entry_hash(entries[2]["prev_hash"], entries[2])
    check = verify(entries, head_of(entries[-1]))
    assert (check.first_broken_index, check.first_broken_id) == (3, entries[3]["hash"])
    assert check.reason.startswith("link")


def test_a_removed_entry_is_named_where_it_was():
    entries = log_of(5)
    del entries[1]
    check = verify(entries, AuditHead(5, log_of(5)[-1]["hash"]))
    assert (check.ok, check.first_broken_index, check.first_broken_id) == (False, 1, entries[1]["hash"])
    assert check.reason.startswith("link")


def test_reordered_entries_are_named():
    entries = log_of(5)
    entries[1], entries[2] = entries[2], entries[1]
    check = verify(entries, head_of(log_of(5)[-1]))
    assert (check.first_broken_index, check.first_broken_id) == (1, entries[1]["hash"])
    assert check.reason.startswith("link")


def test_an_inserted_entry_is_named_even_when_it_links_to_the_one_before():
    entries = log_of(5)
    forged = chained({"action": "approved", "actor": "mallory@example.com"}, entries[1])
    entries.insert(2, forged)
    check = verify(entries, head_of(log_of(5)[-1]))
    # The forgery links back correctly; the entry after it no longer does.
    assert (check.first_broken_index, check.first_broken_id) == (3, entries[3]["hash"])
    assert check.reason.startswith("link")


def test_a_wrong_sequence_number_is_named():
    entries = log_of(3)
    entries[1]["seq"] = 7
    entries[1]["hash"] = entry_hash(entries[1]["prev_hash"], entries[1])
    entries[2]["prev_hash"] = entries[1]["hash"]
    entries[2]["hash"] = entry_hash(entries[2]["prev_hash"], entries[2])
    check = verify(entries)
    assert check.first_broken_index == 1 and check.reason.startswith("sequence")


def test_truncation_is_valid_as_a_chain_but_caught_against_the_recorded_head():
    entries = log_of(5)
    recorded = head_of(entries[-1])
    cut = entries[:3]
    assert verify(cut).ok, "a chain alone cannot see its newest entries removed"
    check = verify(cut, recorded)
    assert not check.ok and check.first_broken_index == 3 and check.first_broken_id is None
    assert check.reason.startswith("truncated") and "entry 5" in check.reason and "entry 3" in check.reason
    assert not verify([], recorded).ok


def test_a_log_rewritten_from_some_entry_on_is_caught_at_the_recorded_head():
    entries = log_of(5)
    recorded = head_of(entries[-1])
    rewritten = entries[:2]
    for i in range(2, 5):
        rewritten.append(chained({"action": "rejected", "actor": "mallory@example.com", "version": str(i)}, rewritten[-1]))
    check = verify(rewritten, recorded)
    assert (check.first_broken_index, check.first_broken_id) == (4, rewritten[4]["hash"])
    assert check.reason.startswith("not the recorded head")


def test_a_head_that_lags_behind_is_accepted():
    entries = log_of(5)
    assert verify(entries, head_of(entries[2])).ok


def test_an_unreadable_line_is_named():
    entries: list = log_of(3)
    entries[1] = '{"action": "approved", "actor": '
    check = verify(entries)
    assert (check.first_broken_index, check.first_broken_id) == (1, None) and check.reason.startswith("unreadable")
    without_hash = copy.deepcopy(log_of(3))
    del without_hash[0]["hash"]
    assert verify(without_hash).reason.startswith("unreadable")


def test_verify_reads_a_stream_once_and_counts_every_entry_after_a_break():
    entries = log_of(6)
    entries[1]["version"] = "forged"
    check = verify(iter(json.loads(json.dumps(e)) for e in entries))
    assert check.entries == 6 and check.first_broken_index == 1
