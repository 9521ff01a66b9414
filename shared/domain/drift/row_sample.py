"""A uniform sample of a window's rows, of bounded size, that merges: bottom-k by random key.

Every row gets a random key; the sample is the `size` rows with the smallest keys. The
union of two samples' rows holds the smallest keys of the pooled window, so merging is
exact, and chunking does not change the sample (the key stream is the same).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable


class RowSample:
    """Bottom-k row sample over the numeric and categorical features (NaN / None where a row has no value)."""

    def __init__(self, numeric: Iterable[str], categorical: Iterable[str], size: int, seed: int) -> None:
        import numpy as np

        self.size = max(int(size), 0)
        self._seed = seed
        self._rng = None            # made on the first offer: a restored sample never needs one
        self._keys = np.empty(0, dtype=np.float64)
        self._numeric = set(numeric)
        self._rows: dict[str, Any] = {name: np.empty(0, dtype=np.float64) for name in numeric}
        self._rows.update({name: np.empty(0, dtype=object) for name in categorical})

    def add(self, clean: dict[str, Any], n: int) -> None:
        """Offer one chunk's `n` rows (cleaned column values; a column may be shorter or absent)."""

        def pick(chosen):
            new_rows = {}
            for name in self._rows:
                taken = self._empty(name, chosen.size)
                column = clean.get(name)
                if column is not None:
                    inside = chosen < len(column)
                    taken[inside] = column[chosen[inside]]
                new_rows[name] = taken
            return new_rows

        self.offer(n, pick)

    def offer(self, n: int, pick: Callable[[Any], dict[str, Any]]) -> None:
        """Offer `n` rows; `pick(indices)` gives the values of the chosen rows by column (only they are read)."""
        import numpy as np

        if not self.size:
            return
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        keys = self._rng.random(n)
        if self._keys.size >= self.size:
            chosen = np.flatnonzero(keys < self._keys.max())
            if chosen.size == 0:
                return
        else:
            chosen = np.arange(n)
        if chosen.size > self.size:  # only the chunk's `size` smallest keys can join the sample
            chosen = np.sort(chosen[np.argpartition(keys[chosen], self.size - 1)[: self.size]])
        picked = pick(chosen)
        new_rows = {name: picked[name] if name in picked else self._empty(name, chosen.size) for name in self._rows}
        self._keep_smallest(np.concatenate([self._keys, keys[chosen]]),
                            {name: np.concatenate([self._rows[name], new_rows[name]]) for name in self._rows})

    def merge(self, other: "RowSample") -> None:
        """Pool `other` (a sample over the same features) into this one, keeping the larger size."""
        import numpy as np

        size = max(self.size, other.size)
        if size and (self._keys.size or other._keys.size):
            self.size = size
            self._keep_smallest(np.concatenate([self._keys, other._keys]),
                                {name: np.concatenate([self._rows[name], other._rows[name]]) for name in self._rows})

    def merge_all(self, others: list["RowSample"]) -> None:
        """Pool several samples at once (one selection instead of one per sample)."""
        import numpy as np

        others = [o for o in others if o._keys.size]
        if not others:
            return
        self.size = max([self.size, *(o.size for o in others)])
        self._keep_smallest(np.concatenate([self._keys, *(o._keys for o in others)]),
                            {name: np.concatenate([self._rows[name], *(o._rows[name] for o in others)])
                             for name in self._rows})

    def state(self) -> tuple[Any, dict[str, Any]]:
        """The keys and the kept rows by column (for storing the sample)."""
        return self._keys, self._rows

    def restore(self, keys, rows: dict[str, Any]) -> None:
        """Take over stored keys and rows (columns this sample does not know are left out, missing ones empty)."""
        self._keys = keys
        self._rows = {name: rows[name] if name in rows else self._empty(name, keys.size) for name in self._rows}

    def rows(self) -> dict[str, list]:
        """The sampled rows by column, in key order (None for empty values)."""
        import numpy as np

        order = np.argsort(self._keys, kind="stable")
        result = {}
        for name, column in self._rows.items():
            taken = column[order]
            if name in self._numeric:
                result[name] = [None if not math.isfinite(v) else v for v in taken.tolist()]
            else:
                result[name] = taken.tolist()
        return result

    def _empty(self, name: str, size: int):
        import numpy as np

        return np.full(size, np.nan) if name in self._numeric else np.full(size, None, dtype=object)

    def _keep_smallest(self, keys, rows: dict[str, Any]) -> None:
        import numpy as np

        if keys.size > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys = keys[keep]
            rows = {name: column[keep] for name, column in rows.items()}
        self._keys = keys
        self._rows = rows
