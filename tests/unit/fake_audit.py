"""In-memory AuditLog with the same semantics as BlobAuditLog (to be merged into tests/fakes.py)."""
from __future__ import annotations

import copy
import json
import threading
from datetime import datetime, timezone


class FakeAuditLog:
    """Append-only: entries are stored as JSON, stamped with `recorded_at` if missing, never changed."""

    def __init__(self, clock=None):
        self.entries: list[dict] = []
        self.lock = threading.Lock()
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def append(self, entry):
        record = dict(entry)
        if "recorded_at" not in record:
            record["recorded_at"] = self.clock().isoformat()
        record = json.loads(json.dumps(record, default=str))  # what the blob stores and gives back
        with self.lock:
            self.entries.append(record)

    def read(self, limit=100):
        if limit <= 0:
            return []
        with self.lock:
            return copy.deepcopy(self.entries[::-1][:limit])
