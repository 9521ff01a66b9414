"""What a window has counted for one feature: grid cell counts (numeric) or category counts, and bad values.

Each `add` takes one chunk's column and returns the cleaned values (floats, or strings
and None) for the window's row sample.
"""
from __future__ import annotations

import math

from shared.domain.drift.baseline import CategoricalBaseline, NumericBaseline
from shared.domain.drift.column_values import MAX_EXAMPLES, is_null, to_float

MAX_UNSEEN = 50             # distinct unseen category names kept per feature


class NumericTally:
    """Counts per fine baseline cell, with empty / non-finite / non-number counts, min, max and sum."""

    __slots__ = ("counts", "present_rows", "nulls", "non_finite", "type_errors", "examples",
                 "min", "max", "sum", "valid", "scale", "offset", "limit", "integer_base")

    def __init__(self, feature: NumericBaseline) -> None:
        import numpy as np

        self.counts = np.zeros(feature.cells + 2, dtype=np.int64)
        self.present_rows = 0
        self.nulls = 0
        self.non_finite = 0
        self.type_errors = 0
        self.examples: list[str] = []
        self.min = math.inf
        self.max = -math.inf
        self.sum = 0.0
        self.valid = 0
        self.scale = 1.0 / feature.width
        self.offset = 1.0 - feature.start / feature.width
        self.limit = float(feature.cells + 1)
        # one cell per integer, centred on the integers: cell index = value - integer_base
        lowest = feature.start + 0.5
        self.integer_base = (int(lowest) - 1 if feature.integer and feature.width == 1.0 and lowest == int(lowest)
                             and abs(lowest) < 2 ** 52 else None)

    def add(self, array, n: int):
        """Count one chunk's column (`n` rows in the chunk; a shorter column lacks the last rows)."""
        import numpy as np

        self.present_rows += n
        self.nulls += n - len(array)
        if array.dtype.kind in "iu" and self.integer_base is not None and array.size:
            return self._add_integers(array)
        values, type_errors, examples = to_float(array)
        if type_errors:
            self.type_errors += type_errors
            self.examples.extend(examples[: MAX_EXAMPLES - len(self.examples)])
        if values.size == 0:
            return values
        low, high = float(values.min()), float(values.max())
        if math.isfinite(low) and math.isfinite(high):  # min/max propagate NaN and show ±inf: all finite
            finite = values
            total = float(values.sum())
        else:
            nan = np.isnan(values)
            inf = np.isinf(values)
            self.nulls += int(nan.sum()) - type_errors  # type errors were turned into NaN
            self.non_finite += int(inf.sum())
            finite = values[~(nan | inf)]
            if finite.size == 0:
                return values
            low, high, total = float(finite.min()), float(finite.max()), float(finite.sum())
        position = finite * self.scale
        position += self.offset
        if not (0.0 <= low * self.scale + self.offset and high * self.scale + self.offset < self.limit):
            np.clip(position, 0.0, self.limit, out=position)
        self.counts += np.bincount(position.astype(np.intp), minlength=self.counts.size)
        self.valid += int(finite.size)
        self.sum += total
        self.min = min(self.min, low)
        self.max = max(self.max, high)
        return values

    def _add_integers(self, array):
        """Integer values on a one-cell-per-integer grid: indexed directly, without float conversion."""
        import numpy as np

        low, high = int(array.min()), int(array.max())
        index = array.astype(np.int64, copy=True)
        index -= self.integer_base
        if low - self.integer_base < 0 or high - self.integer_base > self.limit:
            np.clip(index, 0, int(self.limit), out=index)
        self.counts += np.bincount(index, minlength=self.counts.size)
        self.valid += int(array.size)
        self.sum += float(array.sum(dtype=np.float64))
        self.min = min(self.min, float(low))
        self.max = max(self.max, float(high))
        return array

    def add_values(self, values: list, weights, cells: int, nulls: int) -> None:
        """Count values already known to be finite numbers (a validated column batch of `cells`
        cells, `nulls` of them empty); `weights`: how often each value occurs (None: once)."""
        import numpy as np

        self.present_rows += cells
        self.nulls += nulls
        if not values:
            return
        count = np.fromiter(weights, np.int64, len(values)) if weights is not None else None
        if self.integer_base is not None and type(values[0]) is int:
            array = np.fromiter(values, np.int64, len(values))
            position = array - self.integer_base
            np.clip(position, 0, int(self.limit), out=position)
        else:
            array = np.fromiter(values, np.float64, len(values))
            position = array * self.scale
            position += self.offset
            np.clip(position, 0.0, self.limit, out=position)
            position = position.astype(np.intp)
        if count is None:
            self.counts += np.bincount(position, minlength=self.counts.size)
            self.valid += len(values)
            self.sum += float(array.sum(dtype=np.float64))
        else:
            self.counts += np.bincount(position, weights=count, minlength=self.counts.size).astype(np.int64)
            self.valid += int(count.sum())
            self.sum += float(np.dot(array.astype(np.float64), count))
        self.min = min(self.min, float(array.min()))
        self.max = max(self.max, float(array.max()))

    def add_integer_array(self, array, cells: int) -> None:
        """Count an int64 array of `cells` valid values (one per cell) on a one-cell-per-integer grid."""
        self.present_rows += cells
        if array.size:
            self._add_integers(array)

    def merge(self, other: "NumericTally") -> None:
        """Add `other` (the same feature's tally, on the same grid) to this one."""
        self.counts += other.counts
        self.merge_scalars([other])

    def merge_scalars(self, others: list["NumericTally"]) -> None:
        """Add everything but the counts of `others` (the same feature's tallies) to this one."""
        self.present_rows += sum(t.present_rows for t in others)
        self.nulls += sum(t.nulls for t in others)
        self.non_finite += sum(t.non_finite for t in others)
        self.type_errors += sum(t.type_errors for t in others)
        self.valid += sum(t.valid for t in others)
        self.sum += sum(t.sum for t in others)
        for other in others:
            if len(self.examples) >= MAX_EXAMPLES:
                break
            self.examples.extend(other.examples[: MAX_EXAMPLES - len(self.examples)])
        self.min = min(self.min, *(t.min for t in others))
        self.max = max(self.max, *(t.max for t in others))


class CategoricalTally:
    """Counts per baseline category, unseen categories by name (up to MAX_UNSEEN), and empty values."""

    __slots__ = ("counts", "unseen", "unseen_other", "present_rows", "nulls", "valid", "index", "examples")

    def __init__(self, feature: CategoricalBaseline) -> None:
        self.index = {c: i for i, c in enumerate(feature.categories)}
        self.counts = [0] * len(feature.categories)
        self.unseen: dict[str, int] = {}
        self.unseen_other = 0
        self.present_rows = 0
        self.nulls = 0
        self.valid = 0
        self.examples: list[str] = []

    @property
    def unseen_count(self) -> int:
        """Values in categories the baseline does not know."""
        return sum(self.unseen.values()) + self.unseen_other

    def add(self, array, n: int):
        """Count one chunk's column (`n` rows in the chunk; a shorter column lacks the last rows)."""
        import numpy as np

        self.present_rows += n
        self.nulls += n - len(array)
        values = np.empty(len(array), dtype=object)
        texts = []
        for i, value in enumerate(array.tolist()):
            if is_null(value):
                values[i] = None
                self.nulls += 1
            else:
                text = str(value)
                values[i] = text
                texts.append(text)
        if texts:
            names, counts = np.unique(np.array(texts, dtype=str), return_counts=True)
            for text, count in zip(names.tolist(), counts.tolist()):
                index = self.index.get(text)
                if index is not None:
                    self.counts[index] += count
                else:
                    self._add_unseen(text, count)
            self.valid += len(texts)
        return values

    def merge(self, other: "CategoricalTally") -> None:
        """Add `other` (the same feature's tally) to this one."""
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]
        for text, count in other.unseen.items():
            self._add_unseen(text, count)
        self.unseen_other += other.unseen_other
        for attribute in ("present_rows", "nulls", "valid"):
            setattr(self, attribute, getattr(self, attribute) + getattr(other, attribute))

    def _add_unseen(self, text: str, count: int) -> None:
        if text in self.unseen or len(self.unseen) < MAX_UNSEEN:
            self.unseen[text] = self.unseen.get(text, 0) + count
        else:
            self.unseen_other += count
