"""Approval requests: the only place their keys exist; newest first, with the open ones at hand."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from shared.domain.candidates import LISTABLE_APPROVAL_STATUSES, Approval
from shared.domain.errors import InvalidInput, NotFound
from shared.domain.naming import validate_record_id
from shared.ports import DocumentStore
from shared.services.documents import update_document
from shared.services.repositories.paging import NewestFirstIndex, OpenSet, Page


class ApprovalRepository:
    def __init__(self, store: DocumentStore):
        self.store = store
        self._newest = NewestFirstIndex(store, "index/approvals/")
        self._open = OpenSet(store, "open/approvals")

    @staticmethod
    def _key(approval_id: str) -> str:
        return f"approvals/{validate_record_id(approval_id, 'approval')}"

    def find(self, approval_id: str) -> Approval | None:
        stored = self.store.get(self._key(approval_id))
        return Approval.from_dict(stored.doc) if stored else None

    def get(self, approval_id: str) -> Approval:
        approval = self.find(approval_id)
        if approval is None:
            raise NotFound(f"approval {approval_id!r} does not exist")
        return approval

    def add(self, approval: Approval) -> None:
        self._open.add(approval.id, approval.created_at)
        self._newest.add(approval.id, datetime.fromisoformat(approval.created_at))
        self.store.create(self._key(approval.id), approval.to_dict())

    def change(self, approval_id: str, change: Callable[[Approval], bool | None]) -> tuple[Approval, bool]:
        """Apply a domain transition (claim, close, finish, remind) under an ETag condition;
        `change` returns False to leave the record; its exceptions (Conflict, ...) pass through."""

        def apply(doc: dict | None) -> dict | None:
            if doc is None:
                raise NotFound(f"approval {approval_id!r} does not exist")
            approval = Approval.from_dict(doc)
            if change(approval) is False:
                return None
            return approval.to_dict()

        doc, changed = update_document(self.store, self._key(approval_id), apply)
        approval = Approval.from_dict(doc)
        if not approval.is_open:
            self._open.discard([approval.id])
        return approval, changed

    def newest(self, limit: int, continuation: str | None = None, status: str | None = None) -> Page[Approval]:
        if status is not None and status not in LISTABLE_APPROVAL_STATUSES:
            raise InvalidInput(f"status must be one of {sorted(LISTABLE_APPROVAL_STATUSES - {'deciding'})}; got {status!r}")
        return self._newest.page(limit, continuation, self.find, lambda a: datetime.fromisoformat(a.created_at),
                                 keep=None if status is None else (lambda a: a.status == status))

    def open(self) -> list[Approval]:
        """Pending and deciding approvals, oldest first (cost: the open ones, not the history)."""
        found, closed = [], []
        for approval_id in self._open.ids():
            approval = self.find(approval_id)
            if approval is not None and approval.is_open:
                found.append(approval)
            elif approval is not None:
                closed.append(approval_id)
        self._open.discard(closed)
        return sorted(found, key=lambda a: a.created_at)
