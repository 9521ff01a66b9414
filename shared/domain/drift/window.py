"""A window of input rows, streamed chunk by chunk against a baseline into bounded-size tallies."""
from __future__ import annotations

from typing import Any, Mapping

from shared.domain.drift.baseline import Baseline, NumericBaseline
from shared.domain.drift.column_values import as_array
from shared.domain.drift.row_sample import RowSample
from shared.domain.drift.tallies import CategoricalTally, NumericTally

_MAX_EXTRA_COLUMNS = 100    # names of unknown columns kept


class WindowAccumulator:
    """Streaming statistics of a window of rows against a baseline: any number of chunks, bounded memory.

    `add(columns)` takes one chunk as a dict of column name → numpy array or list (one entry
    per row). Columns the baseline does not know are ignored (their names are recorded);
    baseline features absent from a chunk count as missing for its rows. Values that are
    None/NaN count as empty, ±inf as non-finite, and values that are not numbers (strings
    such as 'abc', objects) in a numeric feature as type errors; none of them reach the
    statistics. A bottom-k row sample of `reservoir_size` rows (uniform over the window,
    mergeable) is kept for inspection (`sample()`); the statistics use the grids only.
    """

    def __init__(self, baseline: Baseline, reservoir_size: int = 5000, seed: int = 0) -> None:
        self.baseline = baseline
        self.rows = 0
        self.chunks = 0
        self.extra_columns: dict[str, None] = {}
        self.length_mismatches: dict[str, int] = {}
        self._numeric: dict[str, NumericTally] = {}
        self._categorical: dict[str, CategoricalTally] = {}
        for name, feature in baseline.features.items():
            if isinstance(feature, NumericBaseline):
                self._numeric[name] = NumericTally(feature)
            else:
                self._categorical[name] = CategoricalTally(feature)
        self._row_sample = RowSample(self._numeric, self._categorical, reservoir_size, seed)

    @property
    def reservoir_size(self) -> int:
        return self._row_sample.size

    def add(self, columns: Mapping[str, Any]) -> None:
        """Add one chunk of rows (dict of column → array or list)."""
        if not columns:
            return
        arrays: dict[str, Any] = {}
        lengths = []
        for name, values in columns.items():
            name = str(name)
            if name in self.baseline.features:
                arrays[name] = as_array(values)
                lengths.append(len(arrays[name]))
            elif len(self.extra_columns) < _MAX_EXTRA_COLUMNS:
                self.extra_columns[name] = None
        if not arrays:  # no feature in the chunk: its rows still count, as missing values
            lengths = [len(as_array(v)) for v in columns.values()]
        n = max(lengths, default=0)
        if n == 0:
            return
        self.rows += n
        self.chunks += 1
        clean: dict[str, Any] = {}
        for name, array in arrays.items():
            if len(array) != n:
                self.length_mismatches[name] = self.length_mismatches.get(name, 0) + n - len(array)
            clean[name] = self.tally(name).add(array, n)
        self._row_sample.add(clean, n)

    def count_rows(self, n: int, pick) -> None:
        """Count one chunk of `n` rows whose features were tallied directly; `pick(indices)` gives the
        sampled rows' values by column (used by the validation pass, which tallies from the cells)."""
        self.rows += n
        self.chunks += 1
        self._row_sample.offer(n, pick)

    @property
    def row_sample(self) -> RowSample:
        return self._row_sample

    def merge(self, other: "WindowAccumulator") -> None:
        """Pool `other` (a window against the same baseline) into this one, its row sample too."""
        self.merge_all([other])

    def merge_all(self, others: list["WindowAccumulator"]) -> None:
        """Pool several windows at once: each feature's counts added in place, its other tallies summed once,
        one selection for the row sample (what merging them one by one gives, in fewer steps)."""
        for other in others:
            if set(other.baseline.features) != set(self.baseline.features):
                raise ValueError("cannot merge windows checked against different baselines")
        if not others:
            return
        self.rows += sum(o.rows for o in others)
        self.chunks += sum(o.chunks for o in others)
        for other in others:
            for name in other.extra_columns:
                if len(self.extra_columns) < _MAX_EXTRA_COLUMNS:
                    self.extra_columns[name] = None
            for name, count in other.length_mismatches.items():
                self.length_mismatches[name] = self.length_mismatches.get(name, 0) + count
        for name, tally in self._numeric.items():
            theirs = [o._numeric[name] for o in others]
            if any(t.counts.size != tally.counts.size for t in theirs):
                raise ValueError(f"cannot merge windows: feature {name!r} has a different grid")
            counts = tally.counts
            for t in theirs:  # in place: faster than stacking the arrays (a copy) and summing once
                counts += t.counts
            tally.merge_scalars(theirs)
        for name, tally in self._categorical.items():
            for other in others:
                tally.merge(other._categorical[name])
        self._row_sample.merge_all([o._row_sample for o in others])

    def tally(self, name: str) -> NumericTally | CategoricalTally:
        """What the window has counted for baseline feature `name`."""
        return self._numeric[name] if name in self._numeric else self._categorical[name]

    def sample(self) -> dict[str, list]:
        """The reservoir: a uniform sample of at most `reservoir_size` window rows (None for empty values)."""
        return self._row_sample.rows()
