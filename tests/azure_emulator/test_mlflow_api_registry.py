"""The registry's in-process cache of MLmodel flavors: shared by the request threads, so it is
read and filled under the registry's lock."""
from __future__ import annotations

import threading

from emulators.azure.mlflow_api import registry as registry_module
from emulators.azure.mlflow_api.registry import Registry


class LockedOnly(dict):
    """A dict that fails any access made without `lock` held."""

    def __init__(self, lock: threading.Lock):
        super().__init__()
        self.lock = lock

    def _held(self):
        assert self.lock.locked(), "the flavors cache was used without the registry's lock"

    def __contains__(self, key):
        self._held()
        return super().__contains__(key)

    def __getitem__(self, key):
        self._held()
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        self._held()
        super().__setitem__(key, value)

    def get(self, key, default=None):
        self._held()
        return super().get(key, default)

    def setdefault(self, key, default=None):
        self._held()
        return super().setdefault(key, default)


def test_the_flavors_cache_is_used_under_the_lock_and_read_once(monkeypatch):
    reads = []
    monkeypatch.setattr(registry_module, "_read_flavors",
                        lambda blobs, source: reads.append(source) or {"sklearn": {"v": source}})
    registry = Registry(config=None, backing=None, blobs=None, db_path=lambda: None)
    registry._flavors = LockedOnly(registry._lock)

    first = registry._flavors_of("m", "1", "runs:/r/model")
    again = registry._flavors_of("m", "1", "runs:/r/model")

    assert first == again == {"sklearn": {"v": "runs:/r/model"}}
    assert reads == ["runs:/r/model"]
