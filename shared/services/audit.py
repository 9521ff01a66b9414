"""The audit trail: the decision log, its head kept apart, and the check that nothing was changed."""
from __future__ import annotations

import logging
from typing import Iterator, Protocol

from shared.domain.audit_chain import ChainCheck, head_of, verify
from shared.domain.errors import DomainError
from shared.ports import AuditLog, DocumentStore
from shared.services.repositories.audit_head import AuditHeadRepository

log = logging.getLogger("audit")


class ScannableAuditLog(AuditLog, Protocol):
    # The port's streaming read; it joins AuditLog in shared.ports once that module has room.
    def scan(self) -> Iterator[object]:
        """Every stored entry, oldest first, streamed (a line that is not JSON comes as its text)."""


class AuditTrail:
    """An AuditLog that also records the log's head after each append (ETag-conditional, forward
    only) and can verify the whole chain against it.

    The services write through it; a crash between the append and the head update leaves the head
    one entry behind, which `verify` accepts (those entries are still checked link by link) and the
    next append repairs.
    """

    def __init__(self, log: ScannableAuditLog, head: AuditHeadRepository):
        self.log, self.head = log, head

    @classmethod
    def on(cls, log: ScannableAuditLog, store: DocumentStore) -> "AuditTrail":
        return cls(log, AuditHeadRepository(store))

    def append(self, entry: dict) -> dict:
        """Add one entry after the tail, then move the recorded head to it; returns it as stored."""
        stored = self.log.append(entry)
        try:
            self.head.advance(head_of(stored))
        except DomainError as error:
            # The entry is in the log: failing now would make the caller's retry record it twice.
            # The head stays behind (verify accepts that) until the next append moves it.
            log.warning("audit head not moved to entry %s: %s", stored.get("seq"), error.message)
        return stored

    def read(self, limit: int = 100) -> list[dict]:
        """The newest `limit` entries, newest first."""
        return self.log.read(limit)

    def verify(self) -> ChainCheck:
        """Recompute the chain over the whole log, streamed oldest first, and compare its end with
        the recorded head: the first edited, removed, moved or inserted entry is named, and so is
        a log cut short (newest entries removed). A broken chain is a finding, not an error."""
        return verify(self.log.scan(), self.head.get())
