"""Window profiles of capture segments (a deployment's captured live inputs, one file per hour), one
document per segment holding the profile of the segment version it was made from: the only place
their keys exist. A key is a hash of the endpoint, the deployment and the platform's name for the
file, never the name itself (a platform string never becomes a storage path)."""
from __future__ import annotations

import hashlib

from shared.ports import CaptureSegment, DocumentChanged, DocumentExists, DocumentStore


def segment_id(segment: CaptureSegment) -> str:
    """A short, path-safe id of one capture file, whatever the platform calls it."""
    text = "\0".join((segment.endpoint, segment.deployment, segment.key))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class CaptureProfileRepository:
    """Each capture segment's profile for one version: a segment is profiled once per version, and a
    newer version (the current hour's file grows) replaces the older profile, ETag-conditionally."""

    PREFIX = "monitoring/capture-profiles/"

    def __init__(self, store: DocumentStore):
        self.store = store

    def _key(self, segment: CaptureSegment) -> str:
        return f"{self.PREFIX}{segment_id(segment)}"

    def find(self, segment: CaptureSegment) -> dict | None:
        """The stored record when it was made from this version of the segment, else None."""
        stored = self.store.get(self._key(segment))
        return stored.doc if stored and stored.doc.get("version") == segment.version else None

    def put(self, segment: CaptureSegment, profile: dict) -> dict:
        """Store the profile of this version of the segment, replacing another version's; when another
        writer stored this version first, its record stands."""
        record = {"endpoint": segment.endpoint, "deployment": segment.deployment, "segment": segment.key,
                  "version": segment.version, "hour": segment.hour, "rows": profile.get("rows", 0),
                  "profile": profile}
        key = self._key(segment)
        for _ in range(3):
            stored = self.store.get(key)
            if stored is not None and stored.doc.get("version") == segment.version:
                return stored.doc
            try:
                if stored is None:
                    self.store.create(key, record)
                else:
                    self.store.replace(key, record, stored.etag)
                return record
            except (DocumentExists, DocumentChanged):
                continue  # someone else wrote meanwhile: look again
        return record  # still contended: this check uses its own profile; a later one stores it
