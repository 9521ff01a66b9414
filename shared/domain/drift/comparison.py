"""One feature's window against its baseline: the histograms side by side, the statistics, their votes.

Numeric features: PSI and Jensen-Shannon over the coarse quantile bins, KS over the fine
grid (exact for integer features, whose grid has a cell per integer). Categorical
features: PSI and Jensen-Shannon over the baseline's categories plus one bucket for the
others; no KS, so at most two statistics can vote. A statistic votes when it exceeds both
its critical value at the per-test rate `alpha` (significance.py) and its minimum effect size
(the policy's threshold); the stats record both as `thresholds`.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from shared.domain.drift.baseline import CategoricalBaseline, NumericBaseline
from shared.domain.drift.policy import DriftPolicy
from shared.domain.drift.significance import histogram_critical, ks_critical, ks_p_value
from shared.domain.drift.statistics import ks_of_arrays, psi_and_js_of_arrays
from shared.domain.drift.tallies import CategoricalTally, NumericTally


def compare_numeric(feature: NumericBaseline, tally: NumericTally, policy: DriftPolicy,
                    alpha: float) -> dict[str, Any]:
    """Reference and current coarse histograms, PSI / KS / JS, votes and whether the feature drifted."""
    import numpy as np

    valid = tally.valid
    reference_fine, bounds, reference_coarse, reference = _numeric_reference(feature)
    current_fine = tally.counts.astype(np.float64)
    current_coarse = np.add.reduceat(current_fine, bounds)
    stats: dict[str, Any] = {
        "kind": "numeric",
        "psi": None, "ks": None, "js": None, "votes": 0, "drifted": False,
        "reference": dict(reference),
        "current": {
            "counts": [int(c) for c in current_coarse],
            "shares": (current_coarse / valid).tolist() if valid else [0.0] * len(current_coarse),
            "rows": valid,
            "min": tally.min if valid else None, "max": tally.max if valid else None,
            "mean": tally.sum / valid if valid else None,
        },
    }
    if valid:
        psi_value, js_value = psi_and_js_of_arrays(reference_coarse, current_coarse)
        ks_value = ks_of_arrays(reference_fine, current_fine)
        n, m = int(reference_fine.sum()), int(round(current_fine.sum()))
        psi_critical, js_critical = histogram_critical(reference_coarse, n, m, alpha)
        thresholds = {"psi": max(psi_critical, policy.psi_threshold),
                      "ks": max(ks_critical(n, m, alpha), policy.ks_threshold),
                      "js": max(js_critical, policy.js_threshold)}
        votes = (int(psi_value > thresholds["psi"]) + int(ks_value > thresholds["ks"])
                 + int(js_value > thresholds["js"]))
        stats.update(psi=psi_value, ks=ks_value, js=js_value, votes=votes, drifted=votes >= policy.votes_needed,
                     thresholds=thresholds, ks_p_value=ks_p_value(ks_value, n, m), alpha=alpha)
    return stats


@lru_cache(maxsize=256)
def _numeric_reference(feature: NumericBaseline):
    """The baseline side of a numeric feature's comparison, made once per feature: its fine counts,
    the coarse bins' bounds and counts (numpy), and the reference part of the stats (read-only)."""
    import numpy as np

    fine = np.asarray(feature.fine_counts, dtype=np.float64)
    bounds = np.array((0, *feature.cuts), dtype=np.intp)
    coarse = np.add.reduceat(fine, bounds)
    reference = {
        "edges": list(feature.edges),
        "counts": [int(c) for c in coarse],
        "shares": (coarse / coarse.sum()).tolist(),
        "rows": int(sum(feature.fine_counts)),
        "min": feature.min, "max": feature.max, "mean": feature.mean,
    }
    for array in (fine, bounds, coarse):
        array.flags.writeable = False
    return fine, bounds, coarse, reference


def compare_categorical(feature: CategoricalBaseline, tally: CategoricalTally, policy: DriftPolicy,
                        alpha: float) -> dict[str, Any]:
    """Reference and current category counts, PSI / JS, votes and whether the feature drifted."""
    import numpy as np

    valid = tally.valid
    reference = np.array([*feature.counts, feature.other_count], dtype=np.float64)
    current = np.array([*tally.counts, tally.unseen_count], dtype=np.float64)
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
        psi_value, js_value = psi_and_js_of_arrays(reference, current)
        psi_critical, js_critical = histogram_critical(reference, int(reference.sum()), valid, alpha)
        thresholds = {"psi": max(psi_critical, policy.psi_threshold), "js": max(js_critical, policy.js_threshold)}
        votes = int(psi_value > thresholds["psi"]) + int(js_value > thresholds["js"])
        stats.update(psi=psi_value, js=js_value, votes=votes, drifted=votes >= min(policy.votes_needed, 2),
                     thresholds=thresholds, alpha=alpha)
    return stats
