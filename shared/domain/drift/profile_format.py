"""The baseline profile's layout: the contract between the training job that writes it and the check.

A numeric feature's profile holds a fine uniform grid of reference counts and, as
boundaries of that grid, the coarse quantile bins. Version 2 stores the grid; a version-1
profile stores a sorted reference sample instead, from which `grid_from_values` and
`coarse_cuts` rebuild the grid and bins the training job would have written.

training/baseline_profile.py runs inside the Azure ML job, whose code upload is the
training/ folder alone, so it cannot import this package: it declares the same values and
the same two algorithms (with numpy), and tests/training/test_profile_contract.py fails
when the two sides differ.
"""
from __future__ import annotations

import math

PROFILE_VERSION = 2         # written by the training job; version 1 profiles are still read
DEFAULT_BINS = 10           # coarse quantile bins (deciles)
FLOAT_CELLS = 1000          # fine cells of a float feature's grid
MAX_INTEGER_CELLS = 2000    # an integer feature wider than this gets cells of several integers

Grid = tuple[float, float, int, tuple[int, ...]]   # start, width, cells, counts (cells + 2 entries)


def grid_from_values(values: list[float], integer: bool) -> Grid:
    """The fine grid of a feature and its counts: one cell per integer, or FLOAT_CELLS cells over [min, max].

    Cell i covers [start + i*width, start + (i+1)*width); the counts have one more entry
    on each side, for values below and above the grid.
    """
    lo, hi = min(values), max(values)
    if integer:
        width = float(max(1, math.ceil((hi - lo + 1) / MAX_INTEGER_CELLS)))
        start, cells = lo - 0.5, int((hi - lo) // width) + 1
    elif hi == lo:
        start, width, cells = lo - 0.5, 1.0, 1
    else:
        # max falls in the middle of the last cell, never on the upper boundary
        start, width, cells = lo, (hi - lo) / (FLOAT_CELLS - 0.5), FLOAT_CELLS
    counts = [0] * (cells + 2)
    scale, offset = 1.0 / width, 1.0 - start / width
    for value in values:
        counts[min(max(int(value * scale + offset), 0), cells + 1)] += 1
    return start, width, cells, tuple(counts)


def coarse_cuts(fine: tuple[int, ...], bins: int = DEFAULT_BINS) -> list[int]:
    """Boundaries (indices into the fine counts) nearest to the reference quantiles 1/bins .. (bins-1)/bins.

    A boundary c splits the fine counts into [:c] and [c:]. Ties (a cell holding more
    than 1/bins of the mass) merge quantiles, so fewer bins come out.
    """
    total = float(sum(fine))
    cumulative, running = [], 0
    for count in fine:
        running += count
        cumulative.append(running / total)
    cuts: list[int] = []
    for j in range(1, bins):
        q = j / bins
        index = next(i for i, share in enumerate(cumulative) if share >= q - 1e-12)
        before = cumulative[index - 1] if index > 0 else 0.0
        cut = index + 1 if cumulative[index] - q <= q - before else index
        # never isolate the below/above cells (empty in the reference by construction)
        if 1 < cut < len(fine) - 1 and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    return cuts
