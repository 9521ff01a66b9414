"""The since-champion window's merged profile, kept between drift checks: the only place its key exists.

One document: the champion it is for, the parts it covers (file versions and settled capture
segment versions, with their rows and times) and their merged profile. A check extends it with
the parts that arrived since, so it decodes one merged profile instead of one per file.
"""
from __future__ import annotations

from shared.ports import DocumentChanged, DocumentExists, DocumentStore


class MergedProfileRepository:
    """The merged profile document; written ETag-conditionally (a check that loses a race leaves the
    winner's document: it is a cache, rebuilt from the parts' own profiles whenever it does not fit)."""

    KEY = "monitoring/merged-profiles/since-champion"

    def __init__(self, store: DocumentStore):
        self.store = store

    def get(self) -> tuple[dict, str] | None:
        """(document, ETag), or None when no check stored one yet."""
        stored = self.store.get(self.KEY)
        return (stored.doc, stored.etag) if stored else None

    def save(self, doc: dict, etag: str | None) -> bool:
        """Store `doc` over the version read (`etag`; None: there was none); False when another check wrote first."""
        try:
            if etag is None:
                self.store.create(self.KEY, doc)
            else:
                self.store.replace(self.KEY, doc, etag)
        except (DocumentExists, DocumentChanged):
            return False
        return True
