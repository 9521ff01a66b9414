"""Model-registered events, once per version, and the malformed events kept for a person to read."""
from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime

from shared.domain.clock import iso
from shared.domain.models import ModelRegistered
from shared.ports import DocumentChanged, DocumentExists, DocumentStore, Versioned
from shared.services.documents import update_document
from shared.services.repositories.candidates import MAX_VERSION, newest_version_first
from shared.services.repositories.paging import Page, newest_first, scan


class ModelEventRepository:
    """The registered versions of one model as their events recorded them, newest version first."""

    def __init__(self, store: DocumentStore, model_name: str):
        self.store = store
        self.model_name = model_name
        self._prefix = f"models/{model_name}/"

    def _key(self, version: str) -> str:
        return f"{self._prefix}{newest_version_first(version)}"

    def add(self, event: ModelRegistered, received_at: str) -> bool:
        """Record the version's event; False when one was recorded before."""
        try:
            self.store.create(self._key(event.version), {**event.to_dict(), "received_at": received_at})
        except DocumentExists:
            return False
        return True

    def find(self, version: str) -> dict | None:
        stored = self.store.get(self._key(version))
        return stored.doc if stored else None

    def recorded_versions(self) -> set[str]:
        """Every version with a record, from a name-only listing (no document is read)."""
        found, continuation = set(), None
        while True:
            page = self.store.list_keys(self._prefix, 5000, continuation)
            found.update(str(MAX_VERSION - int(key[len(self._prefix):])) for key in page.keys)
            if not page.continuation:
                return found
            continuation = page.continuation

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        def load(key: str) -> dict | None:
            stored = self.store.get(key)
            return stored.doc if stored else None

        return scan(self.store, self._prefix, limit, continuation, load)


class MalformedEvents:
    """Events that could not be parsed, kept for a person to read: under a hash of their content
    (never their id: a hostile id never becomes a path), grouped by the minute they arrived.
    Past a minute's cap an event is not kept whole, but its hash is counted in that minute's
    dropped summary, so a flood writes a bounded number of documents and nothing goes unrecorded."""

    PREFIX = "events/malformed/"
    DROPPED_PREFIX = "events/malformed-dropped/"
    MAX_DROPPED_HASHES = 10_000  # per minute; past it only the count grows

    def __init__(self, store: DocumentStore):
        self.store = store
        self._last_summary: Versioned | None = None

    @staticmethod
    def content_hash(event: object) -> str:
        body = json.dumps(event, sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:32]

    def _minute(self, at: datetime) -> str:
        return newest_first(at.replace(second=0, microsecond=0))

    def kept_in_minute(self, at: datetime, up_to: int) -> int:
        """How many events were kept whole in `at`'s minute, counted up to `up_to`."""
        return len(self.store.list_keys(f"{self.PREFIX}{self._minute(at)}~", up_to).keys)

    def keep(self, event: object, reason: str, at: datetime) -> str:
        key = f"{self.PREFIX}{self._minute(at)}~{self.content_hash(event)}"
        try:
            self.store.create(key, {"reason": reason, "event": event, "received_at": iso(at)})
        except DocumentExists:
            pass  # the same malformed event again in the same minute: kept once
        return key

    def note_dropped(self, event: object, reason: str, at: datetime) -> str:
        """Count an event past the minute's cap in that minute's summary, with its hash."""
        key = f"{self.DROPPED_PREFIX}{self._minute(at)}"
        digest = self.content_hash(event)

        def count(doc: dict | None) -> dict:
            doc = doc or {"minute": iso(at.replace(second=0, microsecond=0)), "count": 0, "hashes": [],
                          "last_reason": ""}
            doc["count"] += 1
            doc["last_reason"] = reason[:500]
            if digest not in doc["hashes"] and len(doc["hashes"]) < self.MAX_DROPPED_HASHES:
                doc["hashes"].append(digest)
            return doc

        # A flood arrives as one invocation after another: writing over the summary this process
        # wrote last (its ETag kept) is one storage call instead of a read and a write.
        last = self._last_summary
        if last is not None and last.key == key:
            doc = count(copy.deepcopy(last.doc))
            try:
                self._last_summary = Versioned(key, doc, self.store.replace(key, doc, last.etag))
                return f"{key}#{digest}"
            except DocumentChanged:
                pass  # another writer came between: the general path below
        update_document(self.store, key, count)
        self._last_summary = self.store.get(key)
        return f"{key}#{digest}"

    def newest(self, limit: int, continuation: str | None = None) -> Page[dict]:
        return scan(self.store, self.PREFIX, limit, continuation, self._load)

    def dropped(self, limit: int, continuation: str | None = None) -> Page[dict]:
        """The per-minute summaries of events past the cap, newest minute first."""
        return scan(self.store, self.DROPPED_PREFIX, limit, continuation, self._load)

    def _load(self, key: str) -> dict | None:
        stored = self.store.get(key)
        return stored.doc if stored else None
