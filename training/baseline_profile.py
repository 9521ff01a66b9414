"""Per-feature baseline profile of a training set, for later drift checks.

`build_profile(df)` is a pure function of a pandas DataFrame: it needs only
pandas and numpy, so a drift monitor can import it without mlflow or sklearn.
The result is plain JSON (logged as the MLflow artifact `baseline_profile.json`)
and is read by `shared.domain.drift.baseline_from_profile`; a check never
re-reads the training data.

Format (version 2). For each numeric column:

* `dtype`, `count`, `null_count`, `min`, `max`, `mean`, `std`;
* `grid`: a fine, uniform grid of cells with the reference count in each
  (`{"start", "width", "cells", "counts"}`; `counts` has `cells + 2` entries:
  below `start`, the cells, at or above `start + cells * width`). Integer columns
  get one cell per integer (cells centred on the integers, so the reference CDF is
  exact); float columns get `FLOAT_CELLS` cells between min and max. A check bins
  a window into the same cells with one multiply and one `bincount` per column
  and computes an (exact for integers) KS statistic from the two CDFs;
* `bin_edges` / `bin_counts`: the coarse quantile bins (deciles for bins=10) for
  PSI and Jensen-Shannon, whose edges are cell boundaries of the grid (so the
  coarse counts are sums of fine cells). Bins are [e_i, e_i+1); the first and
  last bins are open-ended, so values outside the reference range still count.
  Ties merge quantiles, so a low-cardinality column has fewer bins.
* `sample`: a short sorted reference sample (evenly spaced order statistics)
  for people and for other tools.

For each non-numeric column (strings, categories, booleans): `kind: "categorical"`,
`categories` (value → count, the `MAX_CATEGORIES` most frequent) and `other_count`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

# The profile layout (these four values, `make_grid` and `coarse_cuts`) is declared by
# shared/domain/drift/profile_format.py, the reader. Azure ML uploads only this folder,
# so the job cannot import `shared`: this copy is checked against that declaration by
# tests/training/test_profile_contract.py.
PROFILE_VERSION = 2
DEFAULT_BINS = 10
FLOAT_CELLS = 1000          # fine cells of a float column's grid
MAX_INTEGER_CELLS = 2000    # an integer column wider than this gets cells of several integers

DEFAULT_SAMPLE_SIZE = 200
MAX_CATEGORIES = 100


def build_profile(
    df: pd.DataFrame,
    *,
    bins: int = DEFAULT_BINS,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = 0,
) -> dict[str, Any]:
    """Profile every column of `df`: numeric columns with grids and quantile bins, others as categories."""
    features = {}
    for column in df.columns:
        series = df[column]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            features[str(column)] = profile_categorical(series)
        else:
            features[str(column)] = profile_column(series, bins=bins, sample_size=sample_size, seed=seed)
    return {
        "version": PROFILE_VERSION,
        "rows": int(len(df)),
        "bins": bins,
        "sample_size": sample_size,
        "features": features,
    }


def profile_column(series: pd.Series, *, bins: int = DEFAULT_BINS, sample_size: int = DEFAULT_SAMPLE_SIZE, seed: int = 0) -> dict[str, Any]:
    raw = series.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(raw)
    values = raw[finite]
    is_integer = pd.api.types.is_integer_dtype(series) or bool(values.size and np.all(values == np.round(values)))
    result: dict[str, Any] = {
        "kind": "numeric",
        "dtype": str(series.dtype),
        "integer": bool(is_integer),
        "count": int(values.size),
        "null_count": int(series.isna().sum()),
        "non_finite_count": int((~finite).sum() - series.isna().sum()),
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
        "grid": None,
        "bin_edges": [],
        "bin_counts": [],
        "sample": [],
    }
    if values.size == 0:
        return result
    grid = make_grid(values, is_integer)
    fine = grid_counts(values, grid)
    cuts = coarse_cuts(fine, bins)
    edges = [grid["start"] + (cut - 1) * grid["width"] for cut in cuts]
    lo, hi = float(values.min()), float(values.max())
    result.update(
        {
            "min": _number(lo, is_integer),
            "max": _number(hi, is_integer),
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "grid": {**grid, "counts": fine.tolist()},
            "bin_edges": [_number(lo, is_integer)] + [_edge(e) for e in edges] + [_number(hi, is_integer)],
            "bin_counts": [int(c) for c in np.add.reduceat(fine, [0] + cuts)],
            "sample": [_number(v, is_integer) for v in reference_sample(values, sample_size, seed)],
        }
    )
    return result


def profile_categorical(series: pd.Series, max_categories: int = MAX_CATEGORIES) -> dict[str, Any]:
    present = series.dropna()
    counts = present.astype(str).value_counts(sort=True)
    kept = counts.iloc[:max_categories]
    return {
        "kind": "categorical",
        "dtype": str(series.dtype),
        "count": int(present.size),
        "null_count": int(series.size - present.size),
        "categories": {str(k): int(v) for k, v in kept.items()},
        "other_count": int(counts.iloc[max_categories:].sum()),
    }


def make_grid(values: np.ndarray, is_integer: bool) -> dict[str, Any]:
    """The fine uniform grid of a column: one cell per integer, or FLOAT_CELLS cells over [min, max]."""
    lo, hi = float(values.min()), float(values.max())
    if is_integer:
        width = max(1, math.ceil((hi - lo + 1) / MAX_INTEGER_CELLS))
        cells = int((hi - lo) // width) + 1
        return {"start": lo - 0.5, "width": float(width), "cells": cells}
    if hi == lo:
        return {"start": lo - 0.5, "width": 1.0, "cells": 1}
    cells = FLOAT_CELLS
    # max falls in the middle of the last cell, never on the upper boundary
    return {"start": lo, "width": (hi - lo) / (cells - 0.5), "cells": cells}


def grid_counts(values: np.ndarray, grid: dict[str, Any]) -> np.ndarray:
    """Counts of `values` in [below, cell_0 .. cell_{n-1}, above] (same arithmetic as the drift check)."""
    cells = int(grid["cells"])
    scale, offset = 1.0 / grid["width"], 1.0 - grid["start"] / grid["width"]  # the drift check's arithmetic
    position = np.asarray(values, dtype=float) * scale
    position += offset
    position = position[~np.isnan(position)]
    np.clip(position, 0.0, cells + 1.0, out=position)
    return np.bincount(position.astype(np.intp), minlength=cells + 2)


def coarse_cuts(fine: np.ndarray, bins: int = DEFAULT_BINS) -> list[int]:
    """Cell boundaries (indices into the fine counts) nearest to the reference quantiles 1/bins .. (bins-1)/bins.

    A boundary c splits the fine counts into [:c] and [c:]. Ties (a cell holding
    more than 1/bins of the mass) merge quantiles, so fewer bins come out. The first bin
    includes the cell below the grid, the last bin the cell above it.
    """
    total = fine.sum()
    cumulative = np.cumsum(fine) / total
    cuts: list[int] = []
    for q in np.arange(1, bins) / bins:
        # the boundary after the first cell at which the reference CDF reaches q,
        # or before it when that is closer to q
        index = int(np.searchsorted(cumulative, q - 1e-12, side="left"))
        before = cumulative[index - 1] if index > 0 else 0.0
        cut = index + 1 if cumulative[index] - q <= q - before else index
        # never isolate the below/above cells (empty in the reference by construction)
        if 1 < cut < fine.size - 1 and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    return cuts


def reference_sample(values: np.ndarray, sample_size: int = DEFAULT_SAMPLE_SIZE, seed: int = 0) -> np.ndarray:
    """Sorted sample of at most `sample_size` values: all of them if few, else evenly spaced order statistics.

    Evenly spaced quantiles keep the empirical distribution exactly (up to 1/n)
    and are deterministic; `seed` is kept for API stability.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    if ordered.size <= sample_size:
        return ordered
    positions = np.linspace(0, ordered.size - 1, sample_size)
    return ordered[np.round(positions).astype(int)]


def bin_edges(values: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """The profile's coarse bin edges [min, inner cuts..., max] for `values` (see module doc)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    is_integer = bool(np.all(values == np.round(values)))
    grid = make_grid(values, is_integer)
    cuts = coarse_cuts(grid_counts(values, grid), bins)
    inner = [grid["start"] + (cut - 1) * grid["width"] for cut in cuts]
    return np.array([values.min(), *inner, values.max()])


def bin_counts(values: np.ndarray, edges: np.ndarray) -> list[int]:
    """Counts per bin [e0,e1), [e1,e2), ...; below e1 goes to the first bin, at or above the last inner edge to the last."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n_bins = max(len(edges) - 1, 1)
    inner = np.asarray(edges[1:-1], dtype=float)
    index = np.searchsorted(inner, values, side="right")
    return np.bincount(index, minlength=n_bins)[:n_bins].astype(int).tolist()


def _edge(value: float) -> float:
    return round(float(value), 9)


def _number(value: float, is_integer: bool) -> float | int:
    return int(round(value)) if is_integer else round(float(value), 6)
