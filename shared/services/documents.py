"""Optimistic-concurrency updates on the document store: read, change, write if unchanged, retry."""
from __future__ import annotations

import copy
import random
import time
from typing import Callable

from shared.domain.errors import PlatformError
from shared.ports import DocumentChanged, DocumentExists, DocumentStore

MAX_ATTEMPTS = 50


def update_document(
    store: DocumentStore,
    key: str,
    change: Callable[[dict | None], dict | None],
) -> tuple[dict | None, bool]:
    """Apply `change` to the current document until the conditional write wins.

    `change` gets a private copy of the stored document (None when absent) and returns
    the new document, or None to leave things as they are. Returns (document, changed).
    """
    for attempt in range(MAX_ATTEMPTS):
        current = store.get(key)
        proposed = change(copy.deepcopy(current.doc) if current else None)
        if proposed is None:
            return (current.doc if current else None), False
        try:
            if current is None:
                store.create(key, proposed)
            else:
                store.replace(key, proposed, current.etag)
            return proposed, True
        except (DocumentExists, DocumentChanged):
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise PlatformError(f"state document {key!r}: gave up after {MAX_ATTEMPTS} conflicting writes")
