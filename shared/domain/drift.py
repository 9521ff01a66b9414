"""Data drift: statistics of a window of inputs against a stored baseline profile, rules, verdict.

Pure core with one exception: numpy, imported lazily inside the functions that count
(importing this module costs nothing at cold start; `.importlinter` allows
`shared.domain.drift -> numpy`).

How a check works
-----------------
The baseline (`training/baseline_profile.py`, MLflow artifact `baseline_profile.json`)
holds, per numeric feature, a fine uniform grid of cells with the reference counts
(one cell per integer for integer features, 1,000 cells between min and max for floats)
and the coarse quantile bins (deciles) as boundaries of that grid. A window is streamed
through a `WindowAccumulator`: per chunk and feature, one multiply-add, one clip and
one `bincount` into the same grid (about 3 ms per million values), plus null / non-finite
/ type-error counts, min, max, sum and a small bottom-k row sample. Memory is O(cells +
reservoir) whatever the window size, and accumulators merge (pooling small windows).

`check_drift` then compares, per feature:

* PSI over the coarse quantile bins, sum((q - p) ln(q / p)), empty bins floored at
  `PSI_EPSILON`;
* KS statistic, max |F_ref - F_cur| over the fine grid. For integer features the grid
  holds every integer, so it is the exact two-sample KS statistic of the window against
  all reference rows; for floats it is exact up to one fine cell (1/1000 of the range);
* Jensen-Shannon distance (base 2, in [0, 1]) over the coarse bins.

Categorical features (profile `kind: "categorical"`): PSI and JS over the baseline's
categories plus one bucket for values outside them (unseen categories are listed);
no KS.

Rules (`DriftPolicy`): a feature drifts when at least `votes_needed` of its statistics
exceed their thresholds; the dataset drifts when at least `drifted_share` of the features
drift. Windows smaller than `min_window_rows` get "insufficient_data" (the service pools
them until they are big enough). A required feature that is missing from the window or
has no usable value (all empty, non-numeric or infinite) makes the verdict "data_quality".
Every other data-quality signal (nulls, out-of-range values, type errors, infinities,
constant columns, unseen categories, partly missing columns) is named in `problems`
beside the drift verdict: never a crash, never a silent pass.

The default thresholds were tuned on the project data (baseline: diabetes-dev.csv,
windows of 1,000 rows from diabetes-prod.csv, which has no real drift, and the same
windows with the course shift Pregnancies +1, Age x1.2, BMI x1.1); see
`tests/quality/test_drift_quality.py`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

__all__ = [
    "DriftPolicy",
    "NumericBaseline",
    "CategoricalBaseline",
    "Baseline",
    "baseline_from_profile",
    "WindowAccumulator",
    "DriftResult",
    "check_drift",
    "psi",
    "js_distance",
    "ks_from_counts",
    "VERDICTS",
]

VERDICTS = ("drift", "no_drift", "insufficient_data", "data_quality")
PSI_EPSILON = 1e-4          # share given to an empty bin in PSI
FLOAT_CELLS = 1000          # grid of a float feature built from a version-1 profile's sample
_MAX_UNSEEN = 50            # distinct unseen category names kept per feature
_MAX_EXAMPLES = 3           # bad values quoted per feature
_VALUE_CHARS = 40


class ProfileError(ValueError):
    """The baseline profile cannot be used (malformed or empty)."""


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class DriftPolicy:
    """Thresholds and rules of a drift check (all configurable; defaults tuned on the project data).

    psi_threshold / ks_threshold / js_threshold: a statistic "votes" when it is above its threshold.
    votes_needed: a feature drifts when at least this many of its statistics vote (KS, PSI, JS
        for numeric features; PSI and JS for categorical ones, where at most 2 can vote).
    drifted_share: the dataset drifts when at least this share of the features drift (and at least one).
    min_window_rows: smaller windows are "insufficient_data" (the service pools them).
    max_null_rate: a feature with more empty values than this (and more than its baseline) is a problem.
    max_out_of_range_rate: a feature with more values outside the baseline [min, max] than this is a problem.
    """

    psi_threshold: float = 0.05
    ks_threshold: float = 0.075
    js_threshold: float = 0.095
    votes_needed: int = 2
    drifted_share: float = 0.25
    min_window_rows: int = 1000
    max_null_rate: float = 0.05
    max_out_of_range_rate: float = 0.01

    def __post_init__(self) -> None:
        for name in ("psi_threshold", "ks_threshold", "js_threshold", "max_null_rate", "max_out_of_range_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"DriftPolicy.{name} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.votes_needed, int) or not 1 <= self.votes_needed <= 3:
            raise ValueError(f"DriftPolicy.votes_needed must be 1, 2 or 3, got {self.votes_needed!r}")
        if not isinstance(self.drifted_share, (int, float)) or not 0 < self.drifted_share <= 1:
            raise ValueError(f"DriftPolicy.drifted_share must be in (0, 1], got {self.drifted_share!r}")
        if not isinstance(self.min_window_rows, int) or self.min_window_rows < 1:
            raise ValueError(f"DriftPolicy.min_window_rows must be an integer >= 1, got {self.min_window_rows!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- baseline


@dataclass(frozen=True)
class NumericBaseline:
    name: str
    dtype: str
    integer: bool
    count: int
    null_count: int
    min: float
    max: float
    mean: float | None
    std: float | None
    start: float            # fine grid: cells [start + i*width, start + (i+1)*width)
    width: float
    cells: int
    fine_counts: tuple[int, ...]   # cells + 2 entries: below the grid, the cells, above it
    cuts: tuple[int, ...]          # coarse (quantile) bins as boundaries in fine_counts
    kind: str = "numeric"

    @property
    def edges(self) -> tuple[float, ...]:
        """Coarse bin edges for display: [min, inner edges..., max]."""
        inner = tuple(self.start + (cut - 1) * self.width for cut in self.cuts)
        return (self.min, *inner, self.max)

    @property
    def coarse_counts(self) -> tuple[int, ...]:
        bounds = (0, *self.cuts, len(self.fine_counts))
        return tuple(sum(self.fine_counts[a:b]) for a, b in zip(bounds, bounds[1:]))


@dataclass(frozen=True)
class CategoricalBaseline:
    name: str
    dtype: str
    count: int
    null_count: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    other_count: int
    kind: str = "categorical"


@dataclass(frozen=True)
class Baseline:
    features: Mapping[str, NumericBaseline | CategoricalBaseline]
    rows: int
    version: int

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.features)


def baseline_from_profile(profile: dict) -> Baseline:
    """Parse a baseline profile (version 2, or version 1 with its reference sample) into a `Baseline`.

    Features without any reference value (an all-empty training column) are left out:
    nothing can drift against them. Raises ProfileError when nothing usable is left.
    """
    if not isinstance(profile, dict) or not isinstance(profile.get("features"), dict):
        raise ProfileError("baseline profile has no 'features' object")
    version = int(profile.get("version", 1))
    features: dict[str, NumericBaseline | CategoricalBaseline] = {}
    for name, spec in profile["features"].items():
        if not isinstance(spec, dict):
            raise ProfileError(f"baseline profile: feature {name!r} is not an object")
        try:
            if spec.get("kind") == "categorical":
                feature = _categorical_baseline(str(name), spec)
            else:
                feature = _numeric_baseline(str(name), spec)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise ProfileError(f"baseline profile: feature {name!r} is malformed ({error})") from None
        if feature is not None:
            features[str(name)] = feature
    if not features:
        raise ProfileError("baseline profile has no feature with reference values")
    return Baseline(features=features, rows=int(profile.get("rows", 0)), version=version)


def _numeric_baseline(name: str, spec: dict) -> NumericBaseline | None:
    if not spec.get("count"):
        return None
    grid = spec.get("grid")
    if grid:  # version 2
        start, width, cells = float(grid["start"]), float(grid["width"]), int(grid["cells"])
        fine = tuple(int(c) for c in grid["counts"])
        if len(fine) != cells + 2 or width <= 0 or sum(fine) <= 0:
            raise ValueError("grid counts do not match its cells")
        inner = spec.get("bin_edges", [])[1:-1]
        cuts = sorted({min(max(int(round((float(e) - start) / width)) + 1, 1), cells + 1) for e in inner})
        integer = bool(spec.get("integer", "int" in str(spec.get("dtype", ""))))
    else:  # version 1: rebuild the grid from the sorted reference sample
        sample = [float(v) for v in spec["sample"]]
        if not sample:
            return None
        integer = "int" in str(spec.get("dtype", "")) or all(v == round(v) for v in sample)
        start, width, cells, fine = _grid_from_values(sample, integer)
        bins = max(len(spec.get("bin_edges", [])) - 1, 10)
        cuts = _coarse_cuts(fine, bins)
    return NumericBaseline(
        name=name,
        dtype=str(spec.get("dtype", "")),
        integer=integer,
        count=int(spec["count"]),
        null_count=int(spec.get("null_count", 0)),
        min=float(spec["min"]),
        max=float(spec["max"]),
        mean=None if spec.get("mean") is None else float(spec["mean"]),
        std=None if spec.get("std") is None else float(spec["std"]),
        start=start,
        width=width,
        cells=cells,
        fine_counts=fine,
        cuts=tuple(c for c in cuts if 1 < c < cells + 1),
    )


def _categorical_baseline(name: str, spec: dict) -> CategoricalBaseline | None:
    categories = {str(k): int(v) for k, v in dict(spec["categories"]).items()}
    other = int(spec.get("other_count", 0))
    if not categories and not other:
        return None
    return CategoricalBaseline(
        name=name,
        dtype=str(spec.get("dtype", "")),
        count=int(spec.get("count", sum(categories.values()) + other)),
        null_count=int(spec.get("null_count", 0)),
        categories=tuple(categories),
        counts=tuple(categories.values()),
        other_count=other,
    )


def _grid_from_values(values: list[float], integer: bool) -> tuple[float, float, int, tuple[int, ...]]:
    """Same grid as training/baseline_profile.make_grid, from a list of reference values."""
    lo, hi = min(values), max(values)
    if integer:
        width = float(max(1, math.ceil((hi - lo + 1) / 2000)))
        start, cells = lo - 0.5, int((hi - lo) // width) + 1
    elif hi == lo:
        start, width, cells = lo - 0.5, 1.0, 1
    else:
        start, width, cells = lo, (hi - lo) / (FLOAT_CELLS - 0.5), FLOAT_CELLS
    counts = [0] * (cells + 2)
    scale, offset = 1.0 / width, 1.0 - start / width
    for v in values:
        counts[min(max(int(v * scale + offset), 0), cells + 1)] += 1
    return start, width, cells, tuple(counts)


def _coarse_cuts(fine: tuple[int, ...], bins: int) -> list[int]:
    """Same as training/baseline_profile.coarse_cuts (quantile boundaries on the fine grid)."""
    total = float(sum(fine))
    cumulative, running = [], 0
    for c in fine:
        running += c
        cumulative.append(running / total)
    cuts: list[int] = []
    for j in range(1, bins):
        q = j / bins
        index = next(i for i, c in enumerate(cumulative) if c >= q - 1e-12)
        before = cumulative[index - 1] if index > 0 else 0.0
        cut = index + 1 if cumulative[index] - q <= q - before else index
        if 1 < cut < len(fine) - 1 and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    return cuts


# --------------------------------------------------------------------------- statistics


def psi(reference: Iterable[float], current: Iterable[float], epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two histograms over the same bins (counts or shares)."""
    p, q = _shares(reference), _shares(current)
    total = 0.0
    for a, b in zip(p, q):
        a, b = max(a, epsilon), max(b, epsilon)
        total += (b - a) * math.log(b / a)
    return total


def js_distance(reference: Iterable[float], current: Iterable[float]) -> float:
    """Jensen-Shannon distance (base 2: 0 identical, 1 disjoint) of two histograms over the same bins."""
    p, q = _shares(reference), _shares(current)
    divergence = 0.0
    for a, b in zip(p, q):
        m = (a + b) / 2.0
        if a > 0:
            divergence += 0.5 * a * math.log2(a / m)
        if b > 0:
            divergence += 0.5 * b * math.log2(b / m)
    return math.sqrt(min(max(divergence, 0.0), 1.0))


def ks_from_counts(reference: Iterable[float], current: Iterable[float]) -> float:
    """KS statistic max |F_ref - F_cur| of two histograms over the same ordered cells."""
    p, q = _shares(reference), _shares(current)
    best = cp = cq = 0.0
    for a, b in zip(p, q):
        cp += a
        cq += b
        best = max(best, abs(cp - cq))
    return min(best, 1.0)


def _shares(counts: Iterable[float]) -> list[float]:
    values = [float(c) for c in counts]
    total = sum(values)
    return [v / total for v in values] if total > 0 else [0.0] * len(values)


def _psi_js_np(p, q) -> tuple[float, float]:
    import numpy as np

    p = p / p.sum()
    q = q / q.sum()
    pe, qe = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    psi_value = float(np.sum((qe - pe) * np.log(qe / pe)))
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / m), 0.0) + np.where(q > 0, q * np.log2(q / m), 0.0)
    js_value = math.sqrt(min(max(float(terms.sum()) / 2.0, 0.0), 1.0))
    return psi_value, js_value


def _ks_np(p, q) -> float:
    import numpy as np

    return float(min(np.max(np.abs(np.cumsum(p) / p.sum() - np.cumsum(q) / q.sum())), 1.0))


# --------------------------------------------------------------------------- accumulator


class _NumericState:
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


class _CategoricalState:
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
        import numpy as np

        self.baseline = baseline
        self.rows = 0
        self.chunks = 0
        self.extra_columns: dict[str, None] = {}
        self.length_mismatches: dict[str, int] = {}
        self._numeric: dict[str, _NumericState] = {}
        self._categorical: dict[str, _CategoricalState] = {}
        for name, feature in baseline.features.items():
            if isinstance(feature, NumericBaseline):
                self._numeric[name] = _NumericState(feature)
            else:
                self._categorical[name] = _CategoricalState(feature)
        self.reservoir_size = max(int(reservoir_size), 0)
        self._rng = np.random.default_rng(seed)
        self._keys = np.empty(0, dtype=np.float64)
        self._sample: dict[str, Any] = {name: np.empty(0, dtype=np.float64) for name in self._numeric}
        self._sample.update({name: np.empty(0, dtype=object) for name in self._categorical})

    # ---- adding chunks

    def add(self, columns: Mapping[str, Any]) -> None:
        """Add one chunk of rows (dict of column → array or list)."""
        import numpy as np

        if not columns:
            return
        arrays: dict[str, Any] = {}
        lengths = []
        for name, values in columns.items():
            name = str(name)
            if name not in self.baseline.features:
                if len(self.extra_columns) < 100:
                    self.extra_columns[name] = None
                continue
            array = _as_array(values)
            arrays[name] = array
            lengths.append(len(array))
        if not arrays:
            lengths = [len(_as_array(v)) for v in columns.values()]
        n = max(lengths, default=0)
        if n == 0:
            return
        self.rows += n
        self.chunks += 1
        clean: dict[str, Any] = {}
        for name, array in arrays.items():
            if len(array) != n:
                self.length_mismatches[name] = self.length_mismatches.get(name, 0) + n - len(array)
            if name in self._numeric:
                clean[name] = self._add_numeric(self._numeric[name], self.baseline.features[name], array, n)
            else:
                clean[name] = self._add_categorical(self._categorical[name], array, n)
        if self.reservoir_size:
            self._add_to_reservoir(clean, n, np)

    def _add_numeric(self, state: _NumericState, feature: NumericBaseline, array, n: int):
        import numpy as np

        state.present_rows += n
        missing = n - len(array)
        state.nulls += missing  # a short column: the rows it lacks are empty
        if array.dtype.kind in "iu" and state.integer_base is not None and array.size:
            return self._add_integers(state, array, np)
        values, type_errors, examples = _to_float(array)
        if type_errors:
            state.type_errors += type_errors
            state.examples.extend(examples[: _MAX_EXAMPLES - len(state.examples)])
        if values.size == 0:
            return values
        low, high = float(values.min()), float(values.max())
        if math.isfinite(low) and math.isfinite(high):  # min/max propagate NaN and show ±inf: all finite
            finite = values
            total = float(values.sum())
        else:
            nan = np.isnan(values)
            inf = np.isinf(values)
            state.nulls += int(nan.sum()) - type_errors  # type errors were turned into NaN
            state.non_finite += int(inf.sum())
            finite = values[~(nan | inf)]
            if finite.size == 0:
                return values
            low, high, total = float(finite.min()), float(finite.max()), float(finite.sum())
        position = finite * state.scale
        position += state.offset
        if not (0.0 <= low * state.scale + state.offset and high * state.scale + state.offset < state.limit):
            np.clip(position, 0.0, state.limit, out=position)
        state.counts += np.bincount(position.astype(np.intp), minlength=state.counts.size)
        state.valid += int(finite.size)
        state.sum += total
        state.min = min(state.min, low)
        state.max = max(state.max, high)
        return values

    @staticmethod
    def _add_integers(state: _NumericState, array, np):
        """Fast path: integer values on a one-cell-per-integer grid (no float conversion)."""
        low, high = int(array.min()), int(array.max())
        index = array.astype(np.int64, copy=True)
        index -= state.integer_base
        if low - state.integer_base < 0 or high - state.integer_base > state.limit:
            np.clip(index, 0, int(state.limit), out=index)
        state.counts += np.bincount(index, minlength=state.counts.size)
        state.valid += int(array.size)
        state.sum += float(array.sum(dtype=np.float64))
        state.min = min(state.min, float(low))
        state.max = max(state.max, float(high))
        return array

    def _add_categorical(self, state: _CategoricalState, array, n: int):
        import numpy as np

        state.present_rows += n
        state.nulls += n - len(array)
        values = np.empty(len(array), dtype=object)
        texts = []
        for i, value in enumerate(array.tolist()):
            if _is_null(value):
                values[i] = None
                state.nulls += 1
            else:
                text = str(value)
                values[i] = text
                texts.append(text)
        if texts:
            names, counts = np.unique(np.array(texts, dtype=str), return_counts=True)
            for text, count in zip(names.tolist(), counts.tolist()):
                index = state.index.get(text)
                if index is not None:
                    state.counts[index] += count
                elif text in state.unseen or len(state.unseen) < _MAX_UNSEEN:
                    state.unseen[text] = state.unseen.get(text, 0) + count
                else:
                    state.unseen_other += count
            state.valid += len(texts)
        return values

    def _add_to_reservoir(self, clean: dict[str, Any], n: int, np) -> None:
        keys = self._rng.random(n)
        if self._keys.size >= self.reservoir_size:
            chosen = np.flatnonzero(keys < self._keys.max())
            if chosen.size == 0:
                return
        else:
            chosen = np.arange(n)
        new_keys = keys[chosen]
        new_rows = {}
        for name in self._sample:
            column = clean.get(name)
            if column is None:
                fill = np.full(chosen.size, np.nan) if name in self._numeric else np.full(chosen.size, None, dtype=object)
                new_rows[name] = fill
            else:
                taken = np.full(chosen.size, np.nan) if name in self._numeric else np.full(chosen.size, None, dtype=object)
                inside = chosen < len(column)
                taken[inside] = column[chosen[inside]]
                new_rows[name] = taken
        self._keep_smallest(np.concatenate([self._keys, new_keys]),
                            {name: np.concatenate([self._sample[name], new_rows[name]]) for name in self._sample}, np)

    def _keep_smallest(self, keys, rows: dict[str, Any], np) -> None:
        if keys.size > self.reservoir_size:
            keep = np.argpartition(keys, self.reservoir_size - 1)[: self.reservoir_size]
            keys = keys[keep]
            rows = {name: column[keep] for name, column in rows.items()}
        self._keys = keys
        self._sample = rows

    # ---- pooling

    def merge(self, other: "WindowAccumulator") -> None:
        """Pool `other` (a window against the same baseline) into this one."""
        import numpy as np

        if set(other.baseline.features) != set(self.baseline.features):
            raise ValueError("cannot merge windows checked against different baselines")
        self.rows += other.rows
        self.chunks += other.chunks
        for name in other.extra_columns:
            if len(self.extra_columns) < 100:
                self.extra_columns[name] = None
        for name, count in other.length_mismatches.items():
            self.length_mismatches[name] = self.length_mismatches.get(name, 0) + count
        for name, state in self._numeric.items():
            theirs = other._numeric[name]
            if theirs.counts.size != state.counts.size:
                raise ValueError(f"cannot merge windows: feature {name!r} has a different grid")
            state.counts += theirs.counts
            for attribute in ("present_rows", "nulls", "non_finite", "type_errors", "valid", "sum"):
                setattr(state, attribute, getattr(state, attribute) + getattr(theirs, attribute))
            state.examples.extend(theirs.examples[: _MAX_EXAMPLES - len(state.examples)])
            state.min = min(state.min, theirs.min)
            state.max = max(state.max, theirs.max)
        for name, state in self._categorical.items():
            theirs = other._categorical[name]
            state.counts = [a + b for a, b in zip(state.counts, theirs.counts)]
            for text, count in theirs.unseen.items():
                if text in state.unseen or len(state.unseen) < _MAX_UNSEEN:
                    state.unseen[text] = state.unseen.get(text, 0) + count
                else:
                    state.unseen_other += count
            state.unseen_other += theirs.unseen_other
            for attribute in ("present_rows", "nulls", "valid"):
                setattr(state, attribute, getattr(state, attribute) + getattr(theirs, attribute))
        size = max(self.reservoir_size, other.reservoir_size)
        if size and (self._keys.size or other._keys.size):
            self.reservoir_size = size
            self._keep_smallest(np.concatenate([self._keys, other._keys]),
                                {name: np.concatenate([self._sample[name], other._sample[name]]) for name in self._sample}, np)

    # ---- reading

    def sample(self) -> dict[str, list]:
        """The reservoir: a uniform sample of at most `reservoir_size` window rows (None for empty values)."""
        import numpy as np

        order = np.argsort(self._keys, kind="stable")
        result = {}
        for name, column in self._sample.items():
            taken = column[order]
            if name in self._numeric:
                result[name] = [None if not math.isfinite(v) else v for v in taken.tolist()]
            else:
                result[name] = taken.tolist()
        return result


def _as_array(values):
    import numpy as np

    if isinstance(values, np.ndarray):
        return values.reshape(-1) if values.ndim != 1 else values
    if hasattr(values, "to_numpy"):  # pandas / pyarrow objects, without importing them
        try:
            return np.asarray(values.to_numpy())
        except Exception:  # noqa: BLE001 - fall through to a plain list
            pass
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        values = [values]
    try:
        array = np.asarray(values)
    except (ValueError, TypeError):
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    if array.ndim != 1:
        flat = np.empty(len(values), dtype=object)
        flat[:] = list(values)
        array = flat
    return array


def _to_float(array):
    """(float64 values with NaN for empty or non-numeric entries, number of type errors, examples)."""
    import numpy as np

    kind = array.dtype.kind
    if kind == "f":
        return array.astype(np.float64, copy=False), 0, []
    if kind in "iub":
        return array.astype(np.float64), 0, []
    if kind in "OUSTV":
        try:
            return array.astype(np.float64), 0, []  # numbers as objects or numeric strings
        except (ValueError, TypeError, OverflowError):
            pass
    values = np.empty(len(array), dtype=np.float64)
    errors = 0
    examples: list[str] = []
    for i, value in enumerate(array.tolist()):
        if _is_null(value):
            values[i] = math.nan
            continue
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            text = value.strip()
            if not text:
                values[i] = math.nan
                continue
        else:
            text = value
        try:
            number = float(text)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None or isinstance(value, (list, dict, tuple, set)):
            values[i] = math.nan
            errors += 1
            if len(examples) < _MAX_EXAMPLES:
                examples.append(_quote(value))
        else:
            values[i] = number
    return values, errors, examples


def _is_null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _quote(value) -> str:
    text = str(value)
    if len(text) > _VALUE_CHARS:
        text = text[: _VALUE_CHARS - 1] + "…"
    return repr(text)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class DriftResult:
    verdict: str                        # "drift" | "no_drift" | "insufficient_data" | "data_quality"
    rows: int
    drifted_features: tuple[str, ...]
    drifted_share: float
    features: dict                      # name → statistics, votes, reference/current histograms
    quality: dict                       # name → data-quality signals of that feature
    problems: tuple[str, ...]           # human-readable data-quality signals, naming the column
    reason: str = ""                    # one sentence: why this verdict
    policy: dict = field(default_factory=dict)
    window: dict = field(default_factory=dict)   # dataset-level facts: extra columns, missing features, chunks

    @property
    def drifted(self) -> bool:
        return self.verdict == "drift"

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict (no NaN or infinity anywhere)."""
        return _jsonable({
            "verdict": self.verdict,
            "reason": self.reason,
            "rows": self.rows,
            "drifted_features": list(self.drifted_features),
            "drifted_share": self.drifted_share,
            "features": self.features,
            "quality": self.quality,
            "problems": list(self.problems),
            "policy": self.policy,
            "window": self.window,
        })


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return str(value)


# --------------------------------------------------------------------------- check


def check_drift(baseline: Baseline, window: WindowAccumulator, policy: DriftPolicy | None = None) -> DriftResult:
    """Compare the window with the baseline: statistics per feature, data-quality signals, one verdict."""
    import numpy as np

    policy = policy or DriftPolicy()
    if window.baseline is not baseline and set(window.baseline.features) != set(baseline.features):
        raise ValueError("the window was accumulated against a different baseline")
    features: dict[str, dict] = {}
    quality: dict[str, dict] = {}
    problems: list[str] = []
    unusable: list[str] = []
    drifted: list[str] = []
    rows = window.rows

    for name, feature in baseline.features.items():
        if isinstance(feature, NumericBaseline):
            state = window._numeric[name]
            signals, stats = _numeric_check(name, feature, state, rows, policy, np)
        else:
            cstate = window._categorical[name]
            signals, stats = _categorical_check(name, feature, cstate, rows, policy, np)
        mismatch = window.length_mismatches.get(name, 0)
        if mismatch:
            signals["problems"].insert(0, f"column {name!r}: {mismatch} rows had no value (column shorter than the chunk)")
        quality[name] = {k: v for k, v in signals.items() if k != "problems"}
        problems.extend(signals["problems"])
        if not signals["usable"]:
            unusable.append(name)
        if stats.get("drifted"):
            drifted.append(name)
        features[name] = stats

    share = len(drifted) / len(baseline.features) if baseline.features else 0.0
    missing = [n for n in baseline.features if quality[n]["missing"]]
    if rows == 0:
        verdict, reason = "insufficient_data", "the window is empty"
    elif unusable:
        verdict = "data_quality"
        reason = "no usable values for required feature(s) " + ", ".join(repr(n) for n in unusable)
    elif rows < policy.min_window_rows:
        verdict = "insufficient_data"
        reason = f"{rows} rows, fewer than the minimum window of {policy.min_window_rows}"
    elif drifted and share >= policy.drifted_share - 1e-12:
        verdict = "drift"
        reason = (f"{len(drifted)} of {len(baseline.features)} features drifted ({share:.0%} >= "
                  f"{policy.drifted_share:.0%}): " + ", ".join(drifted))
    else:
        verdict = "no_drift"
        reason = (f"{len(drifted)} of {len(baseline.features)} features drifted ({share:.0%} < "
                  f"{policy.drifted_share:.0%})" + (": " + ", ".join(drifted) if drifted else ""))
    return DriftResult(
        verdict=verdict,
        rows=rows,
        drifted_features=tuple(drifted),
        drifted_share=share,
        features=features,
        quality=quality,
        problems=tuple(problems),
        reason=reason,
        policy=policy.to_dict(),
        window={
            "rows": rows,
            "chunks": window.chunks,
            "features": len(baseline.features),
            "missing_features": missing,
            "unusable_features": unusable,
            "extra_columns": list(window.extra_columns),
            "baseline_rows": baseline.rows,
        },
    )


def _numeric_check(name: str, feature: NumericBaseline, state: _NumericState, rows: int, policy: DriftPolicy, np):
    present = state.present_rows
    missing_rows = rows - present
    valid = state.valid
    empty = state.nulls
    null_rate = empty / present if present else None
    counts = state.counts
    out_of_range = int(counts[0] + counts[-1])
    signals: dict[str, Any] = {
        "kind": "numeric",
        "missing": rows > 0 and present == 0,
        "missing_rows": missing_rows,
        "null_rate": null_rate,
        "null_count": empty,
        "out_of_range_rate": out_of_range / valid if valid else None,
        "out_of_range_count": out_of_range,
        "type_errors": state.type_errors,
        "non_finite": state.non_finite,
        "constant": bool(valid >= 2 and state.min == state.max and feature.min != feature.max),
        "unseen_categories": [],
        "usable": rows == 0 or valid > 0,
        "problems": [],
    }
    said = signals["problems"]
    if rows and present == 0:
        said.append(f"column {name!r} is missing from the window")
    elif missing_rows:
        said.append(f"column {name!r} is missing in {missing_rows} of {rows} rows")
    if present and valid == 0:
        what = []
        if empty:
            what.append(f"{empty} empty")
        if state.type_errors:
            what.append(f"{state.type_errors} not numbers (e.g. {', '.join(state.examples)})")
        if state.non_finite:
            what.append(f"{state.non_finite} infinite")
        said.append(f"column {name!r} has no usable value: " + ", ".join(what))
    else:
        if present and null_rate is not None and null_rate > policy.max_null_rate and empty / present > feature.null_count / max(feature.count + feature.null_count, 1):
            said.append(f"column {name!r}: {null_rate:.1%} of values are empty (limit {policy.max_null_rate:.0%})")
        if state.type_errors:
            said.append(f"column {name!r}: {state.type_errors} values are not numbers (e.g. {', '.join(state.examples)})")
        if state.non_finite:
            said.append(f"column {name!r}: {state.non_finite} values are infinite")
        if signals["constant"]:
            said.append(f"column {name!r} is constant ({_fmt(state.min)} in all {valid} values; "
                        f"baseline ranges from {_fmt(feature.min)} to {_fmt(feature.max)})")
        if valid and out_of_range / valid > policy.max_out_of_range_rate:
            said.append(f"column {name!r}: {out_of_range / valid:.1%} of values are outside the baseline range "
                        f"[{_fmt(feature.min)}, {_fmt(feature.max)}]")
    reference_fine = np.asarray(feature.fine_counts, dtype=np.float64)
    bounds = np.array((0, *feature.cuts), dtype=np.intp)
    reference_coarse = np.add.reduceat(reference_fine, bounds)
    current_coarse = np.add.reduceat(counts.astype(np.float64), bounds)
    stats: dict[str, Any] = {
        "kind": "numeric",
        "psi": None, "ks": None, "js": None, "votes": 0, "drifted": False,
        "reference": {
            "edges": list(feature.edges),
            "counts": [int(c) for c in reference_coarse],
            "shares": (reference_coarse / reference_coarse.sum()).tolist(),
            "rows": int(sum(feature.fine_counts)),
            "min": feature.min, "max": feature.max, "mean": feature.mean,
        },
        "current": {
            "counts": [int(c) for c in current_coarse],
            "shares": (current_coarse / valid).tolist() if valid else [0.0] * len(current_coarse),
            "rows": valid,
            "min": state.min if valid else None, "max": state.max if valid else None,
            "mean": state.sum / valid if valid else None,
        },
    }
    if valid:
        psi_value, js_value = _psi_js_np(reference_coarse, current_coarse)
        ks_value = _ks_np(reference_fine, counts.astype(np.float64))
        votes = int(psi_value > policy.psi_threshold) + int(ks_value > policy.ks_threshold) + int(js_value > policy.js_threshold)
        stats.update(psi=psi_value, ks=ks_value, js=js_value, votes=votes, drifted=votes >= policy.votes_needed)
    return signals, stats


def _categorical_check(name: str, feature: CategoricalBaseline, state: _CategoricalState, rows: int, policy: DriftPolicy, np):
    present = state.present_rows
    valid = state.valid
    unseen_count = sum(state.unseen.values()) + state.unseen_other
    signals: dict[str, Any] = {
        "kind": "categorical",
        "missing": rows > 0 and present == 0,
        "missing_rows": rows - present,
        "null_rate": state.nulls / present if present else None,
        "null_count": state.nulls,
        "out_of_range_rate": unseen_count / valid if valid else None,
        "out_of_range_count": unseen_count,
        "type_errors": 0,
        "non_finite": 0,
        "constant": bool(valid >= 2 and len([c for c in state.counts if c]) + len(state.unseen) == 1 and len(feature.categories) > 1),
        "unseen_categories": sorted(state.unseen, key=lambda k: -state.unseen[k]),
        "usable": rows == 0 or valid > 0,
        "problems": [],
    }
    said = signals["problems"]
    if rows and present == 0:
        said.append(f"column {name!r} is missing from the window")
    elif rows - present:
        said.append(f"column {name!r} is missing in {rows - present} of {rows} rows")
    if present and valid == 0:
        said.append(f"column {name!r} has no usable value: {state.nulls} empty")
    else:
        if present and state.nulls / present > policy.max_null_rate:
            said.append(f"column {name!r}: {state.nulls / present:.1%} of values are empty (limit {policy.max_null_rate:.0%})")
        if unseen_count and feature.other_count == 0:
            names = ", ".join(repr(k) for k in signals["unseen_categories"][:5])
            more = "" if len(state.unseen) <= 5 and not state.unseen_other else ", …"
            said.append(f"column {name!r}: {unseen_count} values in categories the baseline never saw ({names}{more})")
        if signals["constant"]:
            said.append(f"column {name!r} is constant (one category in all {valid} values)")
    reference = np.array([*feature.counts, feature.other_count], dtype=np.float64)
    current = np.array([*state.counts, unseen_count], dtype=np.float64)
    labels = [*feature.categories, "(other)"]
    if reference[-1] == 0 and current[-1] == 0:
        reference, current, labels = reference[:-1], current[:-1], labels[:-1]
    stats: dict[str, Any] = {
        "kind": "categorical",
        "psi": None, "ks": None, "js": None, "votes": 0, "drifted": False,
        "reference": {"categories": labels, "counts": [int(c) for c in reference],
                      "shares": (reference / reference.sum()).tolist(), "rows": int(reference.sum())},
        "current": {"counts": [int(c) for c in current],
                    "shares": (current / valid).tolist() if valid else [0.0] * len(current), "rows": valid},
    }
    if valid:
        psi_value, js_value = _psi_js_np(reference, current)
        votes = int(psi_value > policy.psi_threshold) + int(js_value > policy.js_threshold)
        stats.update(psi=psi_value, js=js_value, votes=votes, drifted=votes >= min(policy.votes_needed, 2))
    return signals, stats


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return str(value)
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:.6g}"
