"""Critical values that depend on both sample sizes, so a check has a stated false-alarm rate.

A statistic of a window of m rows against a baseline of n rows is compared with the value it
would exceed, by sampling noise alone, with probability `alpha` (the per-test rate the check
gives it, see check.py):

* KS: the two-sample Kolmogorov distribution at the effective size n*m/(n+m), with Stephens'
  small-sample correction. On a grid (and for integer features) the KS statistic can only be
  smaller than on the raw values, so the test errs on the quiet side.
* PSI and Jensen-Shannon: bootstrap resamples of the baseline's bin shares at both sizes
  (a reference of n rows and a window of m rows, both drawn from the baseline histogram),
  seeded. The reference resamples and the window's standardised multinomial noise are drawn
  once per baseline feature and kept (the window's resample at size m is that noise scaled
  by 1/sqrt(m), the multinomial's own covariance), so a check costs a few vector operations
  per feature. Their mean and variance fix a scaled chi-square (Satterthwaite), whose upper
  quantile at `alpha` is the critical value: a few hundred resamples then reach tail
  probabilities far below 1/resamples. Under no drift both statistics are asymptotically
  (1/n + 1/m) times a chi-square, which is what makes this fit good.
"""
from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

RESAMPLES = 400
SEED = 20240604
_NOISE_ROWS = 10_000        # size of the multinomial draws the window's noise is standardised from


def ks_critical(n: int, m: int, alpha: float) -> float:
    """The KS value the two samples' statistic exceeds with probability about `alpha` when nothing drifted."""
    if n <= 0 or m <= 0:
        return 1.0
    effective = n * m / (n + m)
    root = math.sqrt(effective)
    # Kolmogorov tail 2*exp(-2 lambda^2) (its first term; exact to far below 1e-3 at these tails)
    lam = math.sqrt(-math.log(min(alpha, 0.5) / 2.0) / 2.0)
    return min(lam / (root + 0.12 + 0.11 / root), 1.0)


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Two-sided p-value of a two-sample KS statistic (asymptotic series, Stephens' correction)."""
    if n <= 0 or m <= 0:
        return 1.0
    root = math.sqrt(n * m / (n + m))
    lam = (root + 0.12 + 0.11 / root) * statistic
    if lam < 0.2:
        return 1.0
    total = 0.0
    for j in range(1, 101):
        term = math.exp(-2.0 * j * j * lam * lam)
        total += term if j % 2 else -term
        if term < 1e-12:
            break
    return min(max(2.0 * total, 0.0), 1.0)


def histogram_critical(shares, n: int, m: int, alpha: float) -> tuple[float, float]:
    """(PSI critical value, Jensen-Shannon distance critical value) for these baseline bin shares.

    Kept per (shares, n, m, alpha): a feature's value at one window size is computed once per
    process (checks of the same window, and windows of the same size, ask again)."""
    counts = tuple(map(float, shares.tolist() if hasattr(shares, "tolist") else shares))
    return _histogram_critical(counts, int(n), int(m), float(alpha))


@lru_cache(maxsize=4096)
def _histogram_critical(counts: tuple[float, ...], n: int, m: int, alpha: float) -> tuple[float, float]:
    import numpy as np

    from shared.domain.drift.statistics import PSI_EPSILON

    if len(counts) < 2 or n <= 0 or m <= 0 or sum(counts) <= 0:
        return math.inf, 1.0
    # bins × resamples: sums over the short bin axis run as vector adds (numpy is slow along it)
    p, reference, noise, floored, positive = _resamples(counts, n)
    current = noise / math.sqrt(m)
    current += p
    np.maximum(current, 0.0, out=current)
    current /= current.sum(axis=0)
    qe = np.maximum(current, PSI_EPSILON)
    psi_values = ((qe - floored) * np.log(qe / floored)).sum(axis=0)
    mid = reference + current
    mid *= 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(positive, reference * np.log2(reference / mid), 0.0)
        terms += np.where(current > 0, current * np.log2(current / mid), 0.0)
    js_divergence = np.clip(terms.sum(axis=0) / 2.0, 0.0, 1.0)
    psi_critical = _scaled_chi_square_quantile(psi_values, alpha)
    js_critical = math.sqrt(min(_scaled_chi_square_quantile(js_divergence, alpha), 1.0))
    return psi_critical, js_critical


@lru_cache(maxsize=512)
def _resamples(counts: tuple[float, ...], n: int):
    """The baseline shares (a column), RESAMPLES reference histograms of n rows and unit multinomial
    noise (bins × resamples, seeded), the references floored at PSI_EPSILON and where they are > 0."""
    import numpy as np

    from shared.domain.drift.statistics import PSI_EPSILON

    p = np.asarray(counts) / sum(counts)
    rng = np.random.default_rng(SEED)
    reference = rng.multinomial(n, p, size=RESAMPLES) / n
    noise = (rng.multinomial(_NOISE_ROWS, p, size=RESAMPLES) / _NOISE_ROWS - p) * math.sqrt(_NOISE_ROWS)
    reference, noise = np.ascontiguousarray(reference.T), np.ascontiguousarray(noise.T)
    return p[:, None], reference, noise, np.maximum(reference, PSI_EPSILON), reference > 0


def _scaled_chi_square_quantile(values, alpha: float) -> float:
    """Upper `alpha` quantile of a*chi2(d), a and d matched to the values' mean and variance."""
    mean = float(values.sum()) / values.size
    deviations = values - mean
    variance = float(deviations @ deviations) / (values.size - 1)
    if mean <= 0 or variance <= 0:
        return float(values.max())
    scale = variance / (2.0 * mean)
    dof = 2.0 * mean * mean / variance
    return scale * chi_square_quantile(dof, 1.0 - alpha)


def chi_square_quantile(dof: float, probability: float) -> float:
    """Wilson-Hilferty approximation of the chi-square quantile (good to a few % for dof >= 1)."""
    z = NormalDist().inv_cdf(min(max(probability, 1e-15), 1 - 1e-15))
    h = 2.0 / (9.0 * dof)
    return dof * max(1.0 - h + z * math.sqrt(h), 0.0) ** 3
