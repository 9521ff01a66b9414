"""The emulated platform's resources, by ARM resource id (case-insensitive, as ARM treats ids)."""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable


class ResourceStore:
    """A thread-safe map of ARM resource id → resource body (a JSON-able dict, ARM's shape).

    Reads return deep copies; `update` applies a function to the stored body under the lock, so
    read-modify-write sequences from concurrent requests and background workers do not interleave.
    """

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    @staticmethod
    def key(resource_id: str) -> str:
        return resource_id.rstrip("/").lower()

    def get(self, resource_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(self.key(resource_id))
            return copy.deepcopy(item) if item is not None else None

    def put(self, resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._items[self.key(resource_id)] = copy.deepcopy(body)
            return copy.deepcopy(body)

    def update(self, resource_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any] | None:
        """Apply `change` to the stored body in place; None when the resource is gone."""
        with self._lock:
            item = self._items.get(self.key(resource_id))
            if item is None:
                return None
            change(item)
            return copy.deepcopy(item)

    def delete(self, resource_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.pop(self.key(resource_id), None)

    def children(self, parent_id: str) -> list[dict[str, Any]]:
        """The direct children of `parent_id` (e.g. the versions of a model container), by id."""
        prefix = self.key(parent_id) + "/"
        with self._lock:
            return [copy.deepcopy(v) for k, v in sorted(self._items.items())
                    if k.startswith(prefix) and "/" not in k[len(prefix):]]

    @property
    def lock(self) -> threading.RLock:
        return self._lock
