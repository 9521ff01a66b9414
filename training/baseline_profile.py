"""Per-feature baseline profile of a training set, for later drift checks.

`build_profile(df)` is a pure function of a pandas DataFrame: it needs only
pandas and numpy, so a drift monitor can import it without mlflow or sklearn.

For each column it records dtype, count, null_count, min, max, mean, std, the
decile bin edges with the reference counts per bin (for PSI / chi-square), and a
sorted reference sample of at most `sample_size` values (for KS / Wasserstein).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PROFILE_VERSION = 1
DEFAULT_BINS = 10
DEFAULT_SAMPLE_SIZE = 1000


def build_profile(
    df: pd.DataFrame,
    *,
    bins: int = DEFAULT_BINS,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = 0,
) -> dict[str, Any]:
    """Profile every numeric column of `df`; non-numeric columns are skipped."""
    features = {}
    for column in df.columns:
        series = df[column]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            continue
        features[str(column)] = profile_column(series, bins=bins, sample_size=sample_size, seed=seed)
    return {
        "version": PROFILE_VERSION,
        "rows": int(len(df)),
        "bins": bins,
        "sample_size": sample_size,
        "features": features,
    }


def profile_column(series: pd.Series, *, bins: int = DEFAULT_BINS, sample_size: int = DEFAULT_SAMPLE_SIZE, seed: int = 0) -> dict[str, Any]:
    values = series.dropna().to_numpy(dtype=float)
    is_integer = pd.api.types.is_integer_dtype(series)
    result: dict[str, Any] = {
        "dtype": str(series.dtype),
        "count": int(values.size),
        "null_count": int(series.isna().sum()),
        "min": None,
        "max": None,
        "mean": None,
        "std": None,
        "bin_edges": [],
        "bin_counts": [],
        "sample": [],
    }
    if values.size == 0:
        return result
    edges = bin_edges(values, bins)
    result.update(
        {
            "min": _number(values.min(), is_integer),
            "max": _number(values.max(), is_integer),
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            "bin_edges": [float(edge) for edge in edges],
            "bin_counts": bin_counts(values, edges),
            "sample": [_number(v, is_integer) for v in reference_sample(values, sample_size, seed)],
        }
    )
    return result


def bin_edges(values: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Quantile edges (deciles for bins=10), deduplicated so that ties make fewer bins.

    The outer edges are the observed min and max; `bin_counts` treats the first
    and last bins as open-ended, so values outside the reference range still count.
    """
    quantiles = np.quantile(values, np.linspace(0.0, 1.0, bins + 1))
    edges = np.unique(np.round(quantiles, 12))
    if edges.size == 1:  # constant column: one degenerate bin
        edges = np.array([edges[0], edges[0]])
    return edges


def bin_counts(values: np.ndarray, edges: np.ndarray) -> list[int]:
    """Counts per bin [e0,e1], (e1,e2], ...; below e0 goes to the first bin, above the last edge to the last."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n_bins = max(len(edges) - 1, 1)
    inner = np.asarray(edges[1:-1], dtype=float)
    index = np.searchsorted(inner, values, side="left")
    return np.bincount(index, minlength=n_bins)[:n_bins].astype(int).tolist()


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


def _number(value: float, is_integer: bool) -> float | int:
    return int(round(value)) if is_integer else round(float(value), 6)
