"""The audit log's hash chain: what makes an edited, removed, reordered or inserted entry visible.

Every stored entry carries three fields the log adds (a caller never sets them):

- `seq`: 1 for the first entry, then one more than the entry before it;
- `prev_hash`: the `hash` of the entry before it (GENESIS for the first);
- `hash`: sha256 of `prev_hash` (its 64 ASCII hex characters) followed by the entry's canonical
  bytes, in lowercase hex.

The canonical bytes of an entry are its JSON without the `hash` field: keys sorted, compact
separators (`,` and `:`), non-ASCII characters as UTF-8 (not `\\u` escapes). `seq` and `prev_hash`
are inside the hashed bytes, so neither can be changed without the hash noticing.

What a chain cannot detect by itself: removing the newest entries (truncation) leaves a shorter,
valid chain, and so does replacing the whole log with a new one. The log's head (newest `seq` and
`hash`) is therefore also kept apart, in a state document (`AuditHead`), and `verify` checks the
entries against it: the entry at the head's `seq` must exist and carry the head's hash. The head
may lag behind the log by the entries appended since it was last written (a writer stopped
between the two writes); those entries are still checked link by link. Someone able to rewrite
both the log and the head document can forge a consistent history: the storage's immutability
policy on the log's container is what stands against that.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Iterable

from shared.domain.errors import InvalidInput

GENESIS = "0" * 64
SEQ, PREV_HASH, HASH = "seq", "prev_hash", "hash"
CHAIN_FIELDS = (SEQ, PREV_HASH, HASH)


@dataclass(frozen=True)
class AuditHead:
    """The newest entry the log is known to hold: its `seq` (the count of entries) and `hash`."""

    seq: int = 0
    hash: str = GENESIS


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of `verify`: `ok`, how many entries were read, and the first broken one
    (its position in the log, 0-based, its stored hash as `first_broken_id`, and why)."""

    ok: bool
    entries: int
    first_broken_index: int | None = None
    first_broken_id: str | None = None
    reason: str | None = None
    head_hash: str = GENESIS

    def as_json(self) -> dict:
        broken = None if self.ok else {"index": self.first_broken_index, "id": self.first_broken_id,
                                       "reason": self.reason}
        return {"ok": self.ok, "entries": self.entries, "first_broken": broken, "head_hash": self.head_hash}


def canonical(entry: dict) -> bytes:
    """The bytes an entry's hash covers: its JSON without `hash`, sorted keys, compact, UTF-8."""
    body = {key: value for key, value in entry.items() if key != HASH}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(prev_hash: str, entry: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(entry)).hexdigest()


def chained(entry: dict, tail: dict | None) -> dict:
    """`entry` as the next one after `tail` (None: the log is empty), with seq, prev_hash and hash."""
    taken = [name for name in CHAIN_FIELDS if name in entry]
    if taken:
        raise InvalidInput(f"an audit entry may not set {', '.join(taken)}: the log adds them")
    head = head_of(tail)
    record = {**entry, SEQ: head.seq + 1, PREV_HASH: head.hash}
    record[HASH] = entry_hash(head.hash, record)
    return record


def head_of(entry: dict | None) -> AuditHead:
    """The head a log has when `entry` is its newest (None: empty)."""
    if entry is None:
        return AuditHead()
    return AuditHead(int(entry[SEQ]), str(entry[HASH]))


class ChainVerifier:
    """Checks entries one at a time, oldest first, so a log of any length is verified in bounded memory."""

    def __init__(self, recorded: AuditHead | None = None):
        self.recorded = recorded or AuditHead()
        self.count = 0
        self.head = AuditHead()
        self.broken: tuple[int, str | None, str] | None = None
        self._head_seen = self.recorded.seq == 0

    def feed(self, entry: object) -> None:
        if self.broken is not None:
            self.count += 1
            return
        problem = self._problem(entry)
        if problem is not None:
            claimed = entry.get(HASH) if isinstance(entry, dict) else None
            self.broken = (self.count, claimed if isinstance(claimed, str) else None, problem)
        else:
            self.head = head_of(entry)
            if self.head.seq == self.recorded.seq:
                if self.head.hash != self.recorded.hash:
                    self.broken = (self.count, self.head.hash, "not the recorded head: the log was rewritten")
                self._head_seen = True
        self.count += 1

    def result(self) -> ChainCheck:
        broken = self.broken
        if broken is None and not self._head_seen:
            broken = (self.count, None, f"truncated: the recorded head is entry {self.recorded.seq}, "
                                        f"the log ends at entry {self.head.seq}")
        if broken is None:
            return ChainCheck(True, self.count, head_hash=self.head.hash)
        index, claimed, reason = broken
        return ChainCheck(False, self.count, index, claimed, reason, self.head.hash)

    def _problem(self, entry: object) -> str | None:
        if not isinstance(entry, dict) or any(name not in entry for name in CHAIN_FIELDS):
            return "unreadable: not a JSON object with seq, prev_hash and hash"
        if entry[PREV_HASH] != self.head.hash:
            return "link: prev_hash is not the hash of the entry before (an entry removed, moved or inserted)"
        if entry[SEQ] != self.head.seq + 1:
            return f"sequence: seq {entry[SEQ]!r} where {self.head.seq + 1} was due"
        if entry[HASH] != entry_hash(entry[PREV_HASH], entry):
            return "hash: the entry's content is not what was recorded (edited)"
        return None


def verify(entries: Iterable[object], recorded: AuditHead | None = None) -> ChainCheck:
    """Recompute the chain over `entries` (oldest first) and name the first entry whose link, sequence
    or hash does not hold; with `recorded` (the head kept apart), also catch a truncated or replaced log."""
    verifier = ChainVerifier(recorded)
    for entry in entries:
        verifier.feed(entry)
    return verifier.result()
