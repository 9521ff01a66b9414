"""The distances between a reference and a current histogram over the same bins: PSI, KS, Jensen-Shannon.

The plain-Python functions take any iterables of counts or shares; the check uses the
numpy forms (`psi_and_js_of_arrays`, `ks_of_arrays`), which give the same values.
"""
from __future__ import annotations

import math
from typing import Iterable

PSI_EPSILON = 1e-4          # share given to an empty bin in PSI


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


def psi_and_js_of_arrays(reference, current) -> tuple[float, float]:
    """PSI and Jensen-Shannon distance of two numpy count arrays over the same bins (neither all zero)."""
    import numpy as np

    p = reference / reference.sum()
    q = current / current.sum()
    pe, qe = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    psi_value = float(np.sum((qe - pe) * np.log(qe / pe)))
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / m), 0.0) + np.where(q > 0, q * np.log2(q / m), 0.0)
    js_value = math.sqrt(min(max(float(terms.sum()) / 2.0, 0.0), 1.0))
    return psi_value, js_value


def ks_of_arrays(reference, current) -> float:
    """KS statistic of two numpy count arrays over the same ordered cells (neither all zero)."""
    import numpy as np

    return float(min(np.max(np.abs(np.cumsum(reference) / reference.sum() - np.cumsum(current) / current.sum())), 1.0))


def _shares(counts: Iterable[float]) -> list[float]:
    values = [float(c) for c in counts]
    total = sum(values)
    return [v / total for v in values] if total > 0 else [0.0] * len(values)
