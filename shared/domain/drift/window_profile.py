"""A window profile: what a drift check needs of some rows, made once, stored, merged, never re-read.

A profile does not depend on any model: it counts every feature of the data contract on a
fixed fine grid declared by the contract's physical range (one cell per integer for integer
features up to GRID_CELLS integers wide, else GRID_CELLS equal cells), with the counts of
empty, infinite and non-number values, the sum, min and max, and a bottom-k row sample.
It is a `WindowAccumulator` against that grid, so profiles merge exactly (counts add, the
sample keeps the smallest keys), and `project` turns a (merged) profile into a window on a
champion's baseline grid: exact where the grids share cell edges (integer features), linear
within a cell otherwise (a grid cell is at most 1/GRID_CELLS of the contract's range).

Stored form (`profile_to_dict`): counts as base64 of their non-zero cells, so a profile of a
million-row file is a few tens of KB and decodes in microseconds.
"""
from __future__ import annotations

import base64
import math
from functools import lru_cache
from typing import Iterable

from shared.domain.drift.baseline import Baseline, NumericBaseline
from shared.domain.drift.window import WindowAccumulator

PROFILE_FORMAT = 1
GRID_CELLS = 4096
RESERVOIR_ROWS = 500        # sampled rows kept per profile (inspection, disagreement of models)


def profile_grids(columns: Iterable) -> Baseline:
    """The fixed grid of each bounded feature column of a contract (`ColumnRule`s), as an empty baseline."""
    features = {}
    for rule in columns:
        if getattr(rule, "role", "feature") != "feature" or rule.minimum is None or rule.maximum is None:
            continue
        low, high, integer = float(rule.minimum), float(rule.maximum), rule.kind == "int"
        if integer and high - low + 1 <= GRID_CELLS:
            start, width, cells = low - 0.5, 1.0, int(high - low) + 1
        else:
            start, width, cells = low, (high - low) / (GRID_CELLS - 0.5), GRID_CELLS
        features[rule.name] = NumericBaseline(
            name=rule.name, dtype=rule.kind, integer=integer, count=0, null_count=0, min=low, max=high,
            mean=None, std=None, start=start, width=width, cells=cells, fine_counts=(), cuts=())
    if not features:
        raise ValueError("the contract has no bounded feature column to profile")
    return Baseline(features=features, rows=0, version=PROFILE_FORMAT)


def new_profile(grids: Baseline, reservoir_size: int = RESERVOIR_ROWS, seed: int = 0) -> WindowAccumulator:
    """An empty profile on `grids` (seed the sample per file, e.g. from its hash, so files' samples are independent)."""
    return WindowAccumulator(grids, reservoir_size=reservoir_size, seed=seed)


def profile_to_dict(profile: WindowAccumulator) -> dict:
    """The profile as plain JSON."""
    import numpy as np

    keys, sampled = profile.row_sample.state()
    features = {}
    for name in profile.baseline.features:
        tally = profile.tally(name)
        nonzero = np.flatnonzero(tally.counts)
        dense = nonzero.size * 12 > tally.counts.size * 8
        grid = profile.baseline.features[name]
        features[name] = {
            "grid": {"start": grid.start, "width": grid.width, "cells": grid.cells, "integer": grid.integer},
            "cells": None if dense else _b64(nonzero.astype("<i4")), "count_type": _count_type(tally.counts),
            "counts": _b64((tally.counts if dense else tally.counts[nonzero]).astype(_count_type(tally.counts))),
            "present_rows": tally.present_rows, "nulls": tally.nulls, "non_finite": tally.non_finite,
            "type_errors": tally.type_errors, "examples": list(tally.examples), "valid": tally.valid,
            "sum": tally.sum, "min": _finite(tally.min), "max": _finite(tally.max),
            "sample": _b64(np.asarray(sampled[name], dtype="<f8")),
        }
    return {"format": PROFILE_FORMAT, "rows": profile.rows, "chunks": profile.chunks,
            "extra_columns": list(profile.extra_columns), "length_mismatches": dict(profile.length_mismatches),
            "reservoir_size": profile.reservoir_size, "sample_keys": _b64(np.asarray(keys, dtype="<f8")),
            "features": features}


def profile_from_dict(doc: dict) -> WindowAccumulator:
    """A stored profile back as a WindowAccumulator on its own grids."""
    import numpy as np

    if not isinstance(doc, dict) or doc.get("format") != PROFILE_FORMAT:
        raise ValueError("not a window profile of format %s" % PROFILE_FORMAT)
    grids = _stored_grids(tuple((name, tuple(stored["grid"][k] for k in ("start", "width", "cells", "integer")))
                                for name, stored in doc["features"].items()))
    profile = new_profile(grids, int(doc.get("reservoir_size", RESERVOIR_ROWS)))
    profile.rows, profile.chunks = int(doc["rows"]), int(doc["chunks"])
    profile.extra_columns.update(dict.fromkeys(doc.get("extra_columns", [])))
    profile.length_mismatches.update({str(k): int(v) for k, v in doc.get("length_mismatches", {}).items()})
    sampled = {}
    for name, stored in doc["features"].items():
        tally = profile.tally(name)
        counts = np.frombuffer(base64.b64decode(stored["counts"]), dtype=stored.get("count_type", "<i8"))
        if stored["cells"] is None:
            tally.counts[:] = counts
        else:
            tally.counts[np.frombuffer(base64.b64decode(stored["cells"]), dtype="<i4")] = counts
        for field in ("present_rows", "nulls", "non_finite", "type_errors", "valid"):
            setattr(tally, field, int(stored[field]))
        tally.examples = list(stored.get("examples", []))
        tally.sum = float(stored["sum"])
        tally.min = math.inf if stored["min"] is None else float(stored["min"])
        tally.max = -math.inf if stored["max"] is None else float(stored["max"])
        sampled[name] = np.frombuffer(base64.b64decode(stored["sample"]), dtype="<f8").copy()
    keys = np.frombuffer(base64.b64decode(doc["sample_keys"]), dtype="<f8").copy()
    profile.row_sample.restore(keys, sampled)
    return profile


@lru_cache(maxsize=64)
def _stored_grids(features: tuple) -> Baseline:
    """The grids of a stored profile ((name, (start, width, cells, integer)) pairs); shared by equal profiles."""
    grids = {}
    for name, (start, width, cells, integer) in features:
        grid = {"start": start, "width": width, "cells": cells, "integer": integer}
        grids[name] = NumericBaseline(
            name=name, dtype="int" if grid["integer"] else "float", integer=bool(grid["integer"]), count=0,
            null_count=0, min=float(grid["start"]), max=float(grid["start"]) + float(grid["width"]) * int(grid["cells"]),
            mean=None, std=None, start=float(grid["start"]), width=float(grid["width"]), cells=int(grid["cells"]),
            fine_counts=(), cuts=())
    return Baseline(features=grids, rows=0, version=PROFILE_FORMAT)


def project(profile: WindowAccumulator, baseline: Baseline) -> WindowAccumulator:
    """The profile as a window on `baseline`'s grids: the same counts, spread onto the baseline's cells.

    Baseline features the profile lacks are missing from the window (all rows without a value);
    profile features the baseline lacks are extra columns.
    """
    import numpy as np

    window = WindowAccumulator(baseline, reservoir_size=profile.reservoir_size)
    window.rows, window.chunks = profile.rows, profile.chunks
    window.extra_columns.update(profile.extra_columns)
    window.extra_columns.update(dict.fromkeys(n for n in profile.baseline.features if n not in baseline.features))
    window.length_mismatches.update(profile.length_mismatches)
    for name, feature in baseline.features.items():
        source = profile.baseline.features.get(name)
        if source is None or not isinstance(feature, NumericBaseline):
            continue
        theirs, ours = profile.tally(name), window.tally(name)
        ours.counts = _spread(source, theirs.counts, feature)
        for field in ("present_rows", "nulls", "non_finite", "type_errors", "valid", "sum", "min", "max"):
            setattr(ours, field, getattr(theirs, field))
        ours.examples = list(theirs.examples)
    keys, sampled = profile.row_sample.state()
    window.row_sample.restore(np.asarray(keys), {n: c for n, c in sampled.items() if n in baseline.features})
    return window


def _spread(source: NumericBaseline, counts, target: NumericBaseline):
    """Counts on the source grid (below, cells, above) as counts on the target grid, through the CDF."""
    import numpy as np

    cumulative = np.cumsum(counts, dtype=np.float64)
    edges = source.start + source.width * np.arange(source.cells + 1)
    at_edges = cumulative[: source.cells + 1]
    target_edges = target.start + target.width * np.arange(target.cells + 1)
    cdf = np.interp(target_edges, edges, at_edges)
    spread = np.empty(target.cells + 2)
    spread[0] = cdf[0]
    spread[1:-1] = np.diff(cdf)
    spread[-1] = cumulative[-1] - cdf[-1]
    return spread


def _count_type(counts) -> str:
    return "<i4" if counts.size == 0 or int(counts.max()) < 2**31 else "<i8"


def _b64(array) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def merge_profiles(profiles: Iterable[WindowAccumulator], grids: Baseline) -> WindowAccumulator:
    """One profile of all the given ones, on `grids` (an empty one when there are none)."""
    merged = new_profile(grids)
    merged.merge_all(list(profiles))
    return merged


__all__ = ["GRID_CELLS", "PROFILE_FORMAT", "RESERVOIR_ROWS", "merge_profiles", "new_profile",
           "profile_from_dict", "profile_grids", "profile_to_dict", "project"]
